import type { Kvm } from './kvm.js';

/**
 * `tdp_mmu_iter_cond_resched` for the model: a long walk on the ioctl thread yields mmu_lock (and RCU) every
 * `cond_resched_interval_ns` of its own time; a walk with a pending flush flushes before yielding.
 */
export class CondResched {
  private lastYieldNs: number;

  constructor(private readonly kvm: Kvm) {
    this.lastYieldNs = kvm.ioctl.ns;
  }

  /** True when the walk should yield now. */
  due(): boolean {
    return this.kvm.ioctl.ns - this.lastYieldNs >= this.kvm.profile.params.cond_resched_interval_ns;
  }

  yielded(): void {
    this.kvm.stats.yields++;
    this.lastYieldNs = this.kvm.ioctl.ns;
  }
}
