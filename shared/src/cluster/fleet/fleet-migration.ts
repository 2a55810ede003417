import type { Environment } from '../../engine/environment.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../../migration/job/migration-job.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';
import { PrecopyRun } from '../../migration/precopy/precopy-run.js';
import { RateHistory } from '../../migration/precopy/rate-history.js';
import { precopyBandwidth, unthrottledBandwidth } from '../../migration/precopy/send-bandwidth.js';
import type { WireCap } from '../../migration/precopy/step-plan.js';
import { historyWire } from '../../migration/precopy/wire.js';
import type { Flow, FlowNetwork } from '../network/flow-network.js';

/** A migration's run as the coordinator saw it: its result, when it ends (after any disable), the rates it got. */
export interface MigrationOver {
  /** Without counterfactuals: its timeline and strategy-independent costs as the worker's, its `mmu` null. */
  readonly result: MigrationResult;
  /** Fleet time the job ends: its start plus `total_time_s`. */
  readonly endS: number;
  /** `[t0, r0, …]` seconds since the start, or null if it never sent anything. */
  readonly rateHistory: number[] | null;
}

/**
 * One live migration on the fleet's clock, its flow sharing the fabric: the coordinator advances its
 * {@link PrecopyRun} event by event, at fleet time start + the run's time, and records the rates the fabric gives
 * its flow in a {@link RateHistory} that is also the run's wire. The flow starts when the migration first puts bytes
 * on the wire and lasts until the run is over (it keeps its share through the CLEARs and syncs between steps); its
 * cap is precopy's bandwidth, lifted for stop-and-copy and post-copy. When the run is over, `onOver` gets the result
 * and the history a worker replays the job with.
 */
export class FleetMigration {
  private readonly history = new RateHistory();
  /** The run; null once it is over (its model is let go while stale callbacks wait in the queue). */
  private run: PrecopyRun | null;
  private flow: Flow | null = null;
  /** The flow's cap under precopy's rate limit and with it lifted, bytes/s. */
  private readonly precopyCap: number;
  private readonly unthrottledCap: number;
  /** The callback of the latest scheduling, bound once. */
  private readonly onRate = (rate: number, nowS: number): void => this.rated(rate, nowS);
  /** Bumped at each rescheduling: a callback of an older one does nothing. */
  private generation = 0;

  constructor(
    private readonly env: Environment,
    private readonly network: FlowNetwork,
    private readonly route: readonly number[],
    readonly job: MigrationJob,
    profile: CostProfile,
    readonly startS: number,
    private readonly onOver: (over: MigrationOver) => void,
  ) {
    // The fleet needs the timeline and the disable in effect; the worker's replay evaluates every strategy.
    this.run = new PrecopyRun(job, profile, historyWire(this.history), undefined, { counterfactuals: false });
    this.precopyCap = precopyBandwidth(job.migration);
    this.unthrottledCap = unthrottledBandwidth(job.migration);
  }

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    const run = this.run;
    if (run === null) return;
    const generation = ++this.generation;
    const t = run.nextS();
    if (t === Infinity) return; // waits for its flow's rate
    this.env.callAt(Math.max(this.env.now, this.startS + t), () => {
      if (generation === this.generation) this.fire();
    });
  }

  private fire(): void {
    const run = this.run!;
    run.advance();
    if (run.done) {
      if (this.flow !== null) this.network.remove(this.flow);
      this.flow = null;
      this.generation++;
      this.run = null;
      const result = run.result();
      this.onOver({ result, endS: this.startS + result.total_time_s, rateHistory: this.history.points > 0 ? this.history.toFlat() : null });
      return;
    }
    const cap = run.sending;
    if (cap !== null) {
      const demand = this.demand(cap);
      if (this.flow === null) this.flow = this.network.add(this.route, demand, this.onRate);
      else this.network.setDemand(this.flow, demand);
    }
    this.schedule();
  }

  private demand(cap: WireCap): number {
    return cap === 'precopy' ? this.precopyCap : this.unthrottledCap;
  }

  private rated(rate: number, nowS: number): void {
    this.history.push(nowS - this.startS, rate);
    this.schedule();
  }
}
