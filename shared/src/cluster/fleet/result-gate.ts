import type { Environment } from '../../engine/environment.js';
import { EventQueue } from '../../engine/event-queue.js';
import { NORMAL } from '../../engine/priority.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';
import { FleetInvariantViolation } from './errors/index.js';
import type { JobOutcome } from './job-transport.js';

/**
 * Priority of the first completion event: after the engine's URGENT and NORMAL entries at the same instant, so a
 * result is applied after whatever else happens then; completions among themselves go by job serial.
 */
export const COMPLETION_PRIORITY = NORMAL + 1;

/** What the gate needs to know of a job sent to the workers. */
export interface GatedJob {
  readonly id: string;
  readonly serial: number;
  /** Simulated time the job started at. */
  readonly startS: number;
  /** No result can end before this simulated time (finite). */
  readonly lowerBoundS: number;
}

interface Pending<J> {
  readonly job: J;
  /** Its result has arrived (its completion event is scheduled). */
  resolved: boolean;
}

/**
 * The jobs in flight and the rule that keeps a distributed run deterministic: the simulation may process events up
 * to a job's lower bound without its result, but not past it. A result becomes a completion event at the job's
 * start plus its duration (at priority 2 + serial, see `COMPLETION_PRIORITY`), so the order results arrive in never
 * matters. A job stays in flight from {@link ResultGate.admit} until its completion event has run.
 */
export class ResultGate<J extends GatedJob> {
  private readonly inFlight = new Map<string, Pending<J>>();
  /** Jobs by lower bound, for {@link ResultGate.blockedBefore}; resolved ones are dropped when they come first. */
  private readonly bounds = new EventQueue<Pending<J>>();
  /**
   * The unresolved job with the earliest lower bound, held out of `bounds` by {@link ResultGate.blockedBefore} (it
   * goes back when another job is admitted, which may come before it); null when not known.
   */
  private earliest: Pending<J> | null = null;

  constructor(
    private readonly env: Environment,
    /** Applies a result at its completion time; the job is no longer in flight. */
    private readonly onResult: (job: J, result: MigrationResult) => void,
  ) {}

  /** Jobs in flight: sent, and their result not applied yet. */
  get size(): number {
    return this.inFlight.size;
  }

  /** A job has been sent: it is in flight until its result is applied. */
  admit(job: J): void {
    const pending: Pending<J> = { job, resolved: false };
    this.inFlight.set(job.id, pending);
    if (this.earliest !== null) {
      if (!this.earliest.resolved) this.bounds.push(this.earliest.job.lowerBoundS, 0, this.earliest);
      this.earliest = null;
    }
    this.bounds.push(job.lowerBoundS, 0, pending);
  }

  /** True when some job in flight could end at or before time `t` but its result has not arrived. */
  blockedBefore(t: number): boolean {
    while (this.earliest === null || this.earliest.resolved) {
      this.earliest = this.bounds.popItem() ?? null;
      if (this.earliest === null) return false;
    }
    return this.earliest.job.lowerBoundS <= t;
  }

  /**
   * Takes results from the transport: each becomes its job's completion event. Results of jobs not in flight, or
   * already taken, are ignored (a transport may deliver a result twice).
   * @throws FleetInvariantViolation if a result ends before the simulation's clock: the job's lower bound was wrong,
   * and the simulation has already processed events its result should have come before.
   */
  take(outcomes: readonly JobOutcome[]): void {
    for (const { id, result } of outcomes) {
      const pending = this.inFlight.get(id);
      if (pending === undefined || pending.resolved) continue;
      pending.resolved = true;
      const job = pending.job;
      const endS = job.startS + result.total_time_s;
      if (endS < this.env.now) {
        throw new FleetInvariantViolation(
          `job ${id} ends at ${endS} s, before the simulation's clock (${this.env.now} s): its lower bound ` +
            `(${job.lowerBoundS} s) was wrong, so events after the job's end were processed without its result`,
        );
      }
      this.env.callAt(endS, () => this.complete(job, result), COMPLETION_PRIORITY + job.serial);
    }
  }

  private complete(job: J, result: MigrationResult): void {
    this.inFlight.delete(job.id);
    this.onResult(job, result);
  }
}
