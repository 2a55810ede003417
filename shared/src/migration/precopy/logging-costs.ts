import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { CountedMmu } from '../../kernel/mmu-aggregate/counted-mmu.js';
import type { CostLedger } from '../../kernel/mmu/cost-ledger.js';
import { CostId } from '../../kernel/mmu/cost-profile.js';
import type { DisableStrategy } from '../../kernel/mmu/disable-strategy.js';

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
 * What dirty logging cost one MMU before any disable, by component of the whole cost. Host CPU: `enableSplitNs` (the
 * enable ioctl, huge pages split in CLEAR or on fault, untouched pages mapped at 4K) and `trackingNs` (GET/CLEAR
 * ioctls, PML entries and write-protection faults); guest time lost: `flushStallNs` (remote-flush IPIs of the enable
 * and the CLEARs) and `trackingStallNs` (every vCPU cost of the guest's writes). Host CPU counts the ioctl thread and
 * the vCPUs' lost time alike, as the MMU block's `host_cpu_s` does, so `enableSplitNs + trackingNs` is the MMU's cost
 * before any disable.
 */
export interface MmuLoggingCost {
  enableSplitNs: number;
  trackingNs: number;
  flushStallNs: number;
  trackingStallNs: number;
}

const ZERO = (): MmuLoggingCost => ({ enableSplitNs: 0, trackingNs: 0, flushStallNs: 0, trackingStallNs: 0 });

/**
 * The MMU operations of dirty logging as a QEMU job calls them, each attributed to the components of the whole cost,
 * for both MMUs the aggregate model keeps (the host's, which sets the timeline, and the other, for the paired
 * counterfactual of the other MMU's strategies). The operations return the host's ioctl time.
 */
export class LoggingCosts {
  private readonly host = ZERO();
  /** The other MMU's, null when the aggregate keeps no counterfactuals. */
  private readonly other: MmuLoggingCost | null;

  constructor(readonly mmu: AggregateMmu) {
    this.other = mmu.other === null ? null : ZERO();
  }

  /** The host's MMU's logging cost. */
  get inEffect(): Readonly<MmuLoggingCost> {
    return this.host;
  }

  /** The logging cost of the MMU whose disable `strategy` is. */
  of(strategy: DisableStrategy): Readonly<MmuLoggingCost> {
    return this.mmu.mmuOf(strategy) === this.mmu.host ? this.host : this.other!;
  }

  /** Runs `op` on the aggregate (both MMUs, or the host's alone) and attributes each MMU's ledger changes with `attribute`; returns the host's ioctl time, s. */
  private measure(op: () => void, attribute: (cm: CountedMmu, acc: MmuLoggingCost, before: Snapshot) => void): number {
    const hostMmu = this.mmu.host;
    const otherMmu = this.mmu.other;
    const h = snapshot(hostMmu);
    const o = otherMmu === null ? null : snapshot(otherMmu);
    op();
    attribute(hostMmu, this.host, h);
    if (otherMmu !== null) attribute(otherMmu, this.other!, o!);
    return (hostMmu.ioctl.ns - h.ioctlNs) / 1e9;
  }

  /** KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES; returns its ioctl time, s. */
  enable(running: number): number {
    return this.measure(
      () => this.mmu.enable(running),
      (cm, acc, b) => {
        const ioctlNs = cm.ioctl.ns - b.ioctlNs;
        const stallNs = cm.stats.vcpuStallNs - b.stallNs;
        acc.enableSplitNs += ioctlNs + stallNs;
        acc.flushStallNs += stallNs;
      },
    );
  }

  /** KVM_GET_DIRTY_LOG (a bitmap sync); returns its ioctl time, s. */
  getDirtyLog(): number {
    return this.measure(
      () => this.mmu.getDirtyLog(),
      (cm, acc, b) => {
        acc.trackingNs += cm.ioctl.ns - b.ioctlNs;
      },
    );
  }

  /** KVM_CLEAR_DIRTY_LOG calls (see `AggregateMmu.clearDirtyLog`); returns their ioctl time, s. */
  clearDirtyLog(pages: readonly number[], words: readonly number[], chunks: number, running: number, share?: number, fresh?: boolean): number {
    return this.measure(
      () => this.mmu.clearDirtyLog(pages, words, chunks, running, share, fresh),
      (cm, acc, b) => {
        const ioctlNs = cm.ioctl.ns - b.ioctlNs;
        const splitNs = charged(cm.ioctl, SPLIT_IDS) - b.splitNs;
        const stallNs = cm.stats.vcpuStallNs - b.stallNs;
        acc.enableSplitNs += splitNs;
        acc.trackingNs += ioctlNs - splitNs + stallNs;
        acc.flushStallNs += stallNs;
      },
    );
  }

  /** The guest's writes over `seconds` (see `AggregateMmu.guestWrites`): tracked, split on fault or mapped at 4K. */
  guestWrites(written: readonly number[], seconds: number): void {
    this.measure(
      () => this.mmu.guestWrites(written, seconds),
      (cm, acc, b) => {
        const stallNs = cm.stats.vcpuStallNs - b.stallNs;
        const trackingNs = charged(cm.vcpu, TRACKING_IDS) - b.trackingNs;
        acc.trackingNs += trackingNs;
        acc.enableSplitNs += stallNs - trackingNs;
        acc.trackingStallNs += stallNs;
      },
    );
  }
}

interface Snapshot {
  readonly ioctlNs: number;
  readonly stallNs: number;
  readonly splitNs: number;
  readonly trackingNs: number;
}

function snapshot(cm: CountedMmu): Snapshot {
  return { ioctlNs: cm.ioctl.ns, stallNs: cm.stats.vcpuStallNs, splitNs: charged(cm.ioctl, SPLIT_IDS), trackingNs: charged(cm.vcpu, TRACKING_IDS) };
}
