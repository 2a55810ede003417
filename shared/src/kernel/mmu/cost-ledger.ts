import { COST_KEYS, type CostProfile } from './cost-profile.js';

/** Counts of each cost charged to one thread, and the simulated nanoseconds they add up to. */
export interface LedgerSnapshot {
  readonly counts: Float64Array;
  readonly ns: number;
}

/**
 * The account of one host thread (the ioctl thread or a vCPU thread): how many times each named cost was charged and
 * the simulated time they sum to. `ns` doubles as the thread's local clock during an operation.
 */
export class CostLedger {
  readonly counts = new Float64Array(COST_KEYS.length);
  ns = 0;
  private readonly costs: Float64Array;

  constructor(
    readonly profile: CostProfile,
    readonly label: string,
  ) {
    this.costs = profile.vector;
  }

  /** Charges `n` units of cost `id` (a CostId). */
  charge(id: number, n: number = 1): void {
    this.counts[id]! += n;
    this.ns += n * this.costs[id]!;
  }

  /** Adds time that is not one of the named costs (waiting on another thread). */
  wait(ns: number): void {
    this.ns += ns;
  }

  snapshot(): LedgerSnapshot {
    return { counts: this.counts.slice(), ns: this.ns };
  }

  /** What was charged since `s`. */
  since(s: LedgerSnapshot): LedgerSnapshot {
    const counts = new Float64Array(COST_KEYS.length);
    for (let i = 0; i < counts.length; i++) counts[i] = this.counts[i]! - s.counts[i]!;
    return { counts, ns: this.ns - s.ns };
  }
}
