import { CondResched } from './cond-resched.js';
import { CostId } from './cost-profile.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import { KVM_MAX_HUGEPAGE_LEVEL, PG_LEVEL_2M } from './pg-level.js';
import { isShadowPresentPte } from './spte.js';
import { TdpIter } from './tdp-iter.js';
import type { VcpuActivity } from './vcpu-activity.js';

/** Running vCPUs during a disable walk (they refault zapped regions); none when omitted. */
export interface DisableWalkOptions {
  readonly activity?: VcpuActivity;
  /** Absolute simulated time (ns) at which the ioctl starts, for the activity model. */
  readonly startNs?: number;
}

/**
 * The walk both ways of disabling dirty logging make over a memslot with mmu_lock held for read (or, the leaf zap
 * of 5.10 - 5.12, for write) (`zap_collapsible_spte_range`, `recover_huge_pages_range`):
 * `for_each_tdp_pte_min_level(iter, root, PG_LEVEL_2M, start, end)`, one `spte_walk_ns` per step. At each
 * `tdp_mmu_iter_cond_resched` it yields, doing a pending flush first (and, holding the lock for write, letting
 * waiting vCPUs in: `onYield` is told). SPTEs above KVM_MAX_HUGEPAGE_LEVEL, non-present ones and those
 * starting outside the slot are skipped; `visit` gets every other SPTE (it may change it and call `iter.read()` or
 * `iter.skipChildren()`) and returns true when it leaves a batched remote TLB flush pending. A flush still pending
 * at the end is done then.
 */
export function walkSlotForDisable(
  kvm: Kvm,
  slot: KvmMemorySlot,
  running: number,
  visit: (iter: TdpIter) => boolean,
  onYield?: () => void,
): void {
  const ledger = kvm.ioctl;
  const acct = kvm.ioctlAccount;
  const resched = new CondResched(kvm);
  let flushPending = false;
  const iter = new TdpIter(kvm.mmu).startWalk(PG_LEVEL_2M, slot.baseGfn, slot.endGfn);
  while (iter.valid) {
    if (resched.due() && iter.canYield) {
      if (flushPending) {
        kvm.flushRemoteTlbs(acct, running);
        flushPending = false;
      }
      resched.yielded();
      onYield?.();
      iter.markYielded();
    } else {
      ledger.charge(CostId.spte_walk_ns);
      const gfn = iter.gfn;
      if (iter.level <= KVM_MAX_HUGEPAGE_LEVEL && isShadowPresentPte(iter.oldSpte) && gfn >= slot.baseGfn && gfn < slot.endGfn && visit(iter)) {
        flushPending = true;
      }
    }
    iter.next();
  }
  if (flushPending) kvm.flushRemoteTlbs(acct, running);
}
