import type { Kvm } from './kvm.js';
import { PG_LEVEL_1G, PG_LEVEL_2M, type Gfn } from './pg-level.js';
import { ENTRY_LEAF, ENTRY_TABLE, G1_PAGES, R2, type MmuAccount } from './tdp-mmu.js';

/**
 * `kvm_mmu_notifier_invalidate_range_start` → `kvm_unmap_gfn_range`: the host is changing the mapping of
 * [start, end) (a THP split, page migration, swap): every leaf SPTE mapping a gfn of the range is zapped and remote
 * TLBs are flushed. The next access faults it back in at whatever level the host mapping then allows.
 */
export function kvmMmuNotifierInvalidateRange(kvm: Kvm, start: Gfn, end: Gfn, acct: MmuAccount): void {
  const mmu = kvm.mmu;
  let flush = false;
  for (let g = Math.floor(start / G1_PAGES); g * G1_PAGES < end; g++) {
    const k3 = mmu.l3[g]! & 3;
    if (k3 === ENTRY_LEAF) {
      mmu.zapEntry(PG_LEVEL_1G, g * G1_PAGES, acct, false);
      flush = true;
      continue;
    }
    if (k3 !== ENTRY_TABLE) continue;
    for (let r = Math.max(g * 512, Math.floor(start / R2)); r < Math.min(g * 512 + 512, Math.ceil(end / R2)); r++) {
      const k2 = mmu.l2[r]! & 3;
      if (k2 === ENTRY_LEAF) {
        mmu.zapEntry(PG_LEVEL_2M, r * R2, acct, false);
        flush = true;
      } else if (k2 === ENTRY_TABLE) {
        const lo = Math.max(start, r * R2);
        const hi = Math.min(end, r * R2 + R2);
        const n = mmu.present.clearRange(lo, hi);
        mmu.writable.clearRange(lo, hi);
        mmu.pages[1]! -= n;
        if (n > 0) flush = true;
      }
    }
  }
  if (flush) kvm.flushRemoteTlbs(acct);
}

/**
 * The host splits the transparent huge page backing the 2 MiB region at gfn (e.g. under memory pressure): the
 * MMU notifier zaps its mappings and the region can only be mapped at 4K from now on.
 */
export function hostSplitThp(kvm: Kvm, gfn: Gfn, acct: MmuAccount): void {
  const regionGfn = gfn - (gfn % R2);
  kvmMmuNotifierInvalidateRange(kvm, regionGfn, regionGfn + R2, acct);
  kvm.host.markThpSplit(regionGfn / R2);
}
