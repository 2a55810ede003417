import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { CostLedger } from '../../kernel/mmu/cost-ledger.js';
import { CostId } from '../../kernel/mmu/cost-profile.js';

/** Costs a CLEAR charges for splitting huge pages (with initially-set and eager split) rather than re-protecting. */
const SPLIT_IDS = [CostId.sp_alloc_ns, CostId.split_child_spte_ns] as const;
/** Costs of a tracked write: a PML entry, or a write-protection fault (fast or slow path). */
const TRACKING_IDS = [CostId.pml_logged_write_ns, CostId.fault_fast_ns, CostId.fault_slow_wp_ns] as const;

/** Time `ids` have been charged on `ledger` so far, ns (counts only grow: the difference of two readings is what was charged between them). */
function charged(ledger: CostLedger, ids: readonly number[]): number {
  const costs = ledger.profile.vector;
  let ns = 0;
  for (const id of ids) ns += ledger.counts[id]! * costs[id]!;
  return ns;
}

/**
 * The MMU operations of dirty logging as a QEMU job calls them, each attributed to the components of the whole cost.
 * Host CPU: `enable_split` (the enable ioctl, huge pages split in CLEAR or on fault, untouched pages mapped at 4K)
 * and `dirty_tracking` (GET/CLEAR ioctls, PML entries and write-protection faults); guest time lost: flush stalls
 * (remote-flush IPIs of the enable and the CLEARs) and tracking stalls (every vCPU cost of the guest's writes). Host
 * CPU counts the ioctl thread and the vCPUs' lost time alike, as the MMU block's `host_cpu_s` does, so
 * `enableSplitNs + trackingNs` is the MMU's cost before any disable.
 */
export class LoggingCosts {
  enableSplitNs = 0;
  trackingNs = 0;
  flushStallNs = 0;
  trackingStallNs = 0;

  constructor(readonly mmu: AggregateMmu) {}

  /** KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES; returns its ioctl time, s. */
  enable(running: number): number {
    const ioctl0 = this.mmu.ioctl.ns;
    const stall0 = this.mmu.stats.vcpuStallNs;
    this.mmu.enable(running);
    const ioctlNs = this.mmu.ioctl.ns - ioctl0;
    const stallNs = this.mmu.stats.vcpuStallNs - stall0;
    this.enableSplitNs += ioctlNs + stallNs;
    this.flushStallNs += stallNs;
    return ioctlNs / 1e9;
  }

  /** KVM_GET_DIRTY_LOG (a bitmap sync); returns its ioctl time, s. */
  getDirtyLog(): number {
    const ioctl0 = this.mmu.ioctl.ns;
    this.mmu.getDirtyLog();
    const ioctlNs = this.mmu.ioctl.ns - ioctl0;
    this.trackingNs += ioctlNs;
    return ioctlNs / 1e9;
  }

  /** KVM_CLEAR_DIRTY_LOG calls (see `AggregateMmu.clearDirtyLog`); returns their ioctl time, s. */
  clearDirtyLog(pages: readonly number[], words: readonly number[], chunks: number, running: number, share?: number, fresh?: boolean): number {
    const ioctl = this.mmu.ioctl;
    const ioctl0 = ioctl.ns;
    const stall0 = this.mmu.stats.vcpuStallNs;
    const split0 = charged(ioctl, SPLIT_IDS);
    this.mmu.clearDirtyLog(pages, words, chunks, running, share, fresh);
    const ioctlNs = ioctl.ns - ioctl0;
    const splitNs = charged(ioctl, SPLIT_IDS) - split0;
    const stallNs = this.mmu.stats.vcpuStallNs - stall0;
    this.enableSplitNs += splitNs;
    this.trackingNs += ioctlNs - splitNs + stallNs;
    this.flushStallNs += stallNs;
    return ioctlNs / 1e9;
  }

  /** The guest's writes over `seconds` (see `AggregateMmu.guestWrites`): tracked, split on fault or mapped at 4K. */
  guestWrites(written: readonly number[], seconds: number): void {
    const vcpu = this.mmu.vcpu;
    const stall0 = this.mmu.stats.vcpuStallNs;
    const tracking0 = charged(vcpu, TRACKING_IDS);
    this.mmu.guestWrites(written, seconds);
    const stallNs = this.mmu.stats.vcpuStallNs - stall0;
    const trackingNs = charged(vcpu, TRACKING_IDS) - tracking0;
    this.trackingNs += trackingNs;
    this.enableSplitNs += stallNs - trackingNs;
    this.trackingStallNs += stallNs;
  }
}
