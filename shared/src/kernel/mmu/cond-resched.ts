import type { CostLedger } from './cost-ledger.js';
import type { Kvm } from './kvm.js';

/**
 * `tdp_mmu_iter_cond_resched` for the model: a long walk on the ioctl thread yields mmu_lock (and RCU) every
 * `cond_resched_interval_ns` of its own time; a walk with a pending flush flushes before yielding.
 */
export class CondResched {
  private lastYieldNs: number;
  private readonly intervalNs: number;
  private readonly ledger: CostLedger;

  constructor(private readonly kvm: Kvm) {
    this.ledger = kvm.ioctl;
    this.lastYieldNs = kvm.ioctl.ns;
    this.intervalNs = kvm.profile.params.cond_resched_interval_ns;
  }

  /** True when the walk should yield now. */
  due(): boolean {
    return this.ledger.ns - this.lastYieldNs >= this.intervalNs;
  }

  yielded(): void {
    this.kvm.stats.yields++;
    this.lastYieldNs = this.kvm.ioctl.ns;
  }
}
