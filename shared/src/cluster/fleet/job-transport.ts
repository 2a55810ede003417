import type { MigrationJob } from '../../migration/job/migration-job.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';

/** Why a job exists in the fleet simulation. */
export type JobPurpose = 'maintenance' | 'rebalance' | 'probe';

/** A job as the coordinator sends it: its deterministic id and the validated job. */
export interface JobEnvelope {
  /** `<runId>.<key>`: the same job always gets the same id, so a re-sent job is never simulated twice. */
  readonly id: string;
  readonly job: MigrationJob;
}

export interface JobOutcome {
  readonly id: string;
  readonly result: MigrationResult;
  /**
   * The result's JSON text as it arrived, when the transport received text (it parsed and validated it into
   * `result`): kept so that writing the result again (the results checkpoint) need not serialise it again.
   */
  readonly json?: string;
}

/**
 * How jobs reach the workers and results come back: in process (embedded) or through BullMQ. The coordinator's
 * simulation does not depend on which; results are applied in simulated-time order whatever order they arrive in.
 */
export interface JobTransport {
  /** Sends a job (idempotent per id). */
  submit(envelope: JobEnvelope): Promise<void>;
  /** Waits for and returns results that have arrived since the last call (at least one when jobs are pending). */
  nextResults(): Promise<JobOutcome[]>;
  close(): Promise<void>;
  /**
   * Optional: true when the transport holds submitted jobs it could send if given the event loop for a moment (the
   * simulation otherwise runs synchronously until it must wait for a result, and the workers would idle meanwhile).
   */
  wantsTurn?(): boolean;
  /**
   * Optional: gives the transport a turn of the event loop and returns the results that have already arrived (maybe
   * none), without waiting for more. Called by the simulation when `wantsTurn()` says so.
   */
  turn?(): Promise<JobOutcome[]>;
}
