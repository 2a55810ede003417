import { CostId } from './cost-profile.js';
import { walkSlotForDisable, type DisableWalkOptions } from './disable-walk.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import { pagesPerHpage, PG_LEVEL_1G, PG_LEVEL_2M, type Gfn } from './pg-level.js';
import type { PromoteBailout } from './promote-bailout.js';
import { RefaultTracker } from './refault-tracker.js';
import { isLastSpte } from './spte.js';
import { ENTRY_LEAF, ENTRY_TABLE, G1_PAGES, R2 } from './tdp-mmu.js';

/**
 * In-place promotion (`kvm_tdp_mmu_recover_huge_pages`, 6.13; `try_promote_lpage` in Ben Gardon's 2021 series):
 * walking from the root down to the 2M level under mmu_lock held for read, each present non-leaf SPTE whose range
 * can be mapped huge is replaced by a huge leaf built from its first present child (`make_huge_spte`), and the
 * child tables are torn down. Flushes are batched (at yields and once at the end); vCPUs need not refault.
 *
 * A region whose promotion bails out falls back to being zapped (and is refaulted later), counted by reason. A
 * region the host can no longer map huge (`pfn_not_mappable`) stays mapped at 4K, as it would with any strategy.
 */
export function kvmTdpMmuRecoverHugePages(kvm: Kvm, slot: KvmMemorySlot, running: number, options: DisableWalkOptions): void {
  const mmu = kvm.mmu;
  const ledger = kvm.ioctl;
  const acct = kvm.ioctlAccount;
  const t0 = ledger.ns;
  const startNs = options.startNs ?? 0;
  const now = (): number => startNs + (ledger.ns - t0);
  const refaults = new RefaultTracker(kvm, options.activity, slot);

  /** Zaps the non-leaf SPTE instead; leaves a flush pending. */
  const bail = (reason: PromoteBailout, gfn: Gfn, level: number): true => {
    kvm.stats.bailouts[reason]++;
    const tz = now();
    ledger.charge(CostId.nonleaf_spte_replace_ns);
    mmu.zapEntry(level, gfn, acct, true);
    kvm.stats.sptesZapped++;
    refaults.onCollapsed(gfn, pagesPerHpage(level), tz);
    return true;
  };

  walkSlotForDisable(kvm, slot, running, (iter) => {
    const { level, gfn } = iter;
    if (isLastSpte(iter.oldSpte, level)) return false;
    let flush = false;
    if (kvm.bailsOut('mmu_notifier_in_progress', gfn, level)) {
      flush = bail('mmu_notifier_in_progress', gfn, level);
    } else if (kvm.maxMappingLevel(slot, gfn) < level) {
      // Not mappable this huge: look one level down (the walk steps into the table). At 2M a host split is the
      // reason the region stays small.
      if (level === PG_LEVEL_2M && kvm.host.isHostSplit(gfn / R2)) kvm.stats.bailouts.pfn_not_mappable++;
      return false;
    } else if (kvm.bailsOut('memtype_needs_vcpu', gfn, level)) {
      flush = bail('memtype_needs_vcpu', gfn, level);
    } else if (kvm.bailsOut('invalid_pfn', gfn, level)) {
      flush = bail('invalid_pfn', gfn, level);
    } else {
      const child = firstPresentChildWritable(gfn, level);
      if (child !== undefined) {
        ledger.charge(CostId.nonleaf_spte_replace_ns);
        mmu.setLeaf(level, gfn, child, acct);
        kvm.stats.hugePagesPromoted++;
        flush = true;
      }
    }
    iter.read();
    return flush;
  });
  refaults.settle(now());

  /** W bit of the first present leaf under the non-leaf SPTE at (level, gfn), or undefined when there is none. */
  function firstPresentChildWritable(gfn: Gfn, level: number): boolean | undefined {
    if (level === PG_LEVEL_2M) {
      const r = gfn / R2;
      if (mmu.present.chunkCount(r) === 0) return undefined;
      for (let i = gfn; i < gfn + R2; i++) if (mmu.present.get(i)) return mmu.writable.get(i);
      return undefined;
    }
    if (level === PG_LEVEL_1G) {
      const r0 = Math.floor(gfn / G1_PAGES) * 512;
      for (let r = r0; r < r0 + 512; r++) {
        const k = mmu.l2[r]! & 3;
        if (k === ENTRY_LEAF) return (mmu.l2[r]! & 4) !== 0;
        if (k === ENTRY_TABLE) {
          const w = firstPresentChildWritable(r * R2, PG_LEVEL_2M);
          if (w !== undefined) return w;
        }
      }
    }
    return undefined;
  }
}
