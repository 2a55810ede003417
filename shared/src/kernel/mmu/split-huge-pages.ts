import { CostId } from './cost-profile.js';
import type { Kvm } from './kvm.js';
import { PG_LEVEL_1G, PG_LEVEL_2M, type Gfn } from './pg-level.js';
import { ENTRY_LEAF, G1_PAGES, R2, tdpMmuSplitHugePage, type MmuAccount } from './tdp-mmu.js';

/**
 * Eager page splitting (`kvm_tdp_mmu_try_split_huge_pages(kvm, slot, start, end, PG_LEVEL_4K, shared)`): every huge
 * leaf overlapping [start, end) is split down to 4K, 1G → 2M → 4K. A 1 GiB page becomes 513 page-table pages holding
 * 262,144 4K SPTEs. Only the 2 MiB pieces of a split 1 GiB page that overlap the range are split further.
 */
export function kvmTdpMmuTrySplitHugePages(kvm: Kvm, start: Gfn, end: Gfn, acct: MmuAccount): void {
  const mmu = kvm.mmu;
  for (let g = Math.floor(start / G1_PAGES); g * G1_PAGES < end; g++) {
    acct.ledger.charge(CostId.spte_walk_ns);
    if ((mmu.l3[g]! & 3) === ENTRY_LEAF) tdpMmuSplitHugePage(mmu, PG_LEVEL_1G, g * G1_PAGES, acct);
  }
  for (let r = Math.floor(start / R2); r * R2 < end; r++) {
    const g = Math.floor(r / 512);
    if ((mmu.l3[g]! & 3) !== 2) continue; // no level-2 table: nothing mapped at 2M here
    acct.ledger.charge(CostId.spte_walk_ns);
    if ((mmu.l2[r]! & 3) === ENTRY_LEAF) tdpMmuSplitHugePage(mmu, PG_LEVEL_2M, r * R2, acct);
  }
}
