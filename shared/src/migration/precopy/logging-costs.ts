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

  /** KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES; returns its ioctl time, s. */
  enable(running: number): number {
    const { host, other } = this.mmu;
    const hIoctl = host.ioctl.ns;
    const hStall = host.stats.vcpuStallNs;
    const oIoctl = other?.ioctl.ns ?? 0;
    const oStall = other?.stats.vcpuStallNs ?? 0;
    this.mmu.enable(running);
    attributeEnable(host, this.host, hIoctl, hStall);
    if (other !== null) attributeEnable(other, this.other!, oIoctl, oStall);
    return (host.ioctl.ns - hIoctl) / 1e9;
  }

  /** KVM_GET_DIRTY_LOG (a bitmap sync); returns its ioctl time, s. */
  getDirtyLog(): number {
    const { host, other } = this.mmu;
    const hIoctl = host.ioctl.ns;
    const oIoctl = other?.ioctl.ns ?? 0;
    this.mmu.getDirtyLog();
    this.host.trackingNs += host.ioctl.ns - hIoctl;
    if (other !== null) this.other!.trackingNs += other.ioctl.ns - oIoctl;
    return (host.ioctl.ns - hIoctl) / 1e9;
  }

  /** KVM_CLEAR_DIRTY_LOG calls (see `AggregateMmu.clearDirtyLog`); returns their ioctl time, s. */
  clearDirtyLog(pages: readonly number[], words: readonly number[], chunks: number, running: number, share?: number, fresh?: boolean): number {
    const { host, other } = this.mmu;
    const hIoctl = host.ioctl.ns;
    const hSplit = charged(host.ioctl, SPLIT_IDS);
    const hStall = host.stats.vcpuStallNs;
    const oIoctl = other?.ioctl.ns ?? 0;
    const oSplit = other === null ? 0 : charged(other.ioctl, SPLIT_IDS);
    const oStall = other?.stats.vcpuStallNs ?? 0;
    this.mmu.clearDirtyLog(pages, words, chunks, running, share, fresh);
    attributeClear(host, this.host, hIoctl, hSplit, hStall);
    if (other !== null) attributeClear(other, this.other!, oIoctl, oSplit, oStall);
    return (host.ioctl.ns - hIoctl) / 1e9;
  }

  /** The guest's writes over `seconds` (see `AggregateMmu.guestWrites`): tracked, split on fault or mapped at 4K. */
  guestWrites(written: readonly number[], seconds: number): void {
    const { host, other } = this.mmu;
    const hStall = host.stats.vcpuStallNs;
    const hTracking = charged(host.vcpu, TRACKING_IDS);
    const oStall = other?.stats.vcpuStallNs ?? 0;
    const oTracking = other === null ? 0 : charged(other.vcpu, TRACKING_IDS);
    this.mmu.guestWrites(written, seconds);
    attributeWrites(host, this.host, hStall, hTracking);
    if (other !== null) attributeWrites(other, this.other!, oStall, oTracking);
  }
}

/*
 * Each operation's ledger changes on one MMU, attributed to the components (the readings before it are taken by
 * the operation: only those it attributes).
 */

function attributeEnable(cm: CountedMmu, acc: MmuLoggingCost, ioctlBefore: number, stallBefore: number): void {
  const ioctlNs = cm.ioctl.ns - ioctlBefore;
  const stallNs = cm.stats.vcpuStallNs - stallBefore;
  acc.enableSplitNs += ioctlNs + stallNs;
  acc.flushStallNs += stallNs;
}

function attributeClear(cm: CountedMmu, acc: MmuLoggingCost, ioctlBefore: number, splitBefore: number, stallBefore: number): void {
  const ioctlNs = cm.ioctl.ns - ioctlBefore;
  const splitNs = charged(cm.ioctl, SPLIT_IDS) - splitBefore;
  const stallNs = cm.stats.vcpuStallNs - stallBefore;
  acc.enableSplitNs += splitNs;
  acc.trackingNs += ioctlNs - splitNs + stallNs;
  acc.flushStallNs += stallNs;
}

function attributeWrites(cm: CountedMmu, acc: MmuLoggingCost, stallBefore: number, trackingBefore: number): void {
  const stallNs = cm.stats.vcpuStallNs - stallBefore;
  const trackingNs = charged(cm.vcpu, TRACKING_IDS) - trackingBefore;
  acc.trackingNs += trackingNs;
  acc.enableSplitNs += stallNs - trackingNs;
  acc.trackingStallNs += stallNs;
}
