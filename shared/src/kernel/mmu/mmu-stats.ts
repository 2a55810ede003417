import { FAULT_KINDS, type FaultKind } from './fault-kind.js';
import { PROMOTE_BAILOUTS, type PromoteBailout } from './promote-bailout.js';

/** A zero per key (a plain loop: every evaluated disable makes a few of these). */
function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  return out;
}

/**
 * Event counters of one VM's MMU, cumulative like `kvm->stat` and the tracepoints a kernel engineer would read:
 * remote TLB flushes, faults by kind, SPTEs zapped, huge pages promoted, bail-outs, page-table pages allocated and
 * freed, and the vCPU time lost to MMU work.
 */
export class MmuStats {
  tlbFlushes = 0;
  readonly faults: Record<FaultKind, number> = zeros(FAULT_KINDS);
  /** Writes logged by PML instead of faulting (first write to a D-clean 4K SPTE). */
  pmlLoggedWrites = 0;
  /** SPTEs zapped directly (leaf or non-leaf), not counting the children torn down with them. */
  sptesZapped = 0;
  /** Child SPTEs torn down with removed page tables (`handle_removed_pt`). */
  childSptesTornDown = 0;
  hugePagesPromoted = 0;
  readonly bailouts: Record<PromoteBailout, number> = zeros(PROMOTE_BAILOUTS);
  /** Huge pages split into smaller SPTEs (eagerly, in CLEAR, or on fault). */
  hugePagesSplit = 0;
  spAllocated = 0;
  spFreed = 0;
  /** Yields of long walks (`tdp_mmu_iter_cond_resched`). */
  yields = 0;
  /** vCPU time lost to faults, flush IPIs and frozen SPTEs, summed over vCPUs. */
  vcpuStallNs = 0;
  /** Time the ioctl thread held mmu_lock, by mode. */
  mmuLockReadNs = 0;
  mmuLockWriteNs = 0;

  get totalFaults(): number {
    let n = 0;
    for (const k of FAULT_KINDS) n += this.faults[k];
    return n;
  }

  clone(): MmuStats {
    const c = new MmuStats();
    Object.assign(c, this, { faults: { ...this.faults }, bailouts: { ...this.bailouts } });
    return c;
  }

  /** Counters accumulated since `before` (a clone taken earlier). */
  since(before: MmuStats): MmuStats {
    const d = new MmuStats();
    for (const key of Object.keys(this) as (keyof MmuStats)[]) {
      const v = this[key];
      if (typeof v === 'number') (d as unknown as Record<string, number>)[key] = v - (before[key] as number);
    }
    for (const k of FAULT_KINDS) d.faults[k] = this.faults[k] - before.faults[k];
    for (const k of PROMOTE_BAILOUTS) d.bailouts[k] = this.bailouts[k] - before.bailouts[k];
    return d;
  }
}
