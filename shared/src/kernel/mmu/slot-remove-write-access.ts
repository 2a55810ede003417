import { CostId } from './cost-profile.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import { KVM_MAX_HUGEPAGE_LEVEL, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K } from './pg-level.js';
import { rmapHeads } from './rmap-heads.js';
import { ENTRY_LEAF, ENTRY_TABLE, ENTRY_W, G1_PAGES, R2, type MmuAccount } from './tdp-mmu.js';

/**
 * The shadow MMU's protection when logging is enabled without initially-set (`kvm_mmu_slot_apply_flags`, TDP MMU
 * off), with `mmu_lock` held for write:
 * - without PML, `kvm_mmu_slot_remove_write_access(kvm, slot, PG_LEVEL_4K)`: `walk_slot_rmaps` from 4K to 1G, every
 *   gfn's rmap head at each level, write-protecting each SPTE found (`slot_rmap_write_protect`);
 * - with PML, `kvm_mmu_slot_leaf_clear_dirty` over the 4K rmaps (D bits cleared: the same state change in the model)
 *   and `kvm_mmu_slot_remove_write_access(kvm, slot, PG_LEVEL_2M)`.
 * Either way every head from 4K to 1G is visited once (`rmap_walk_ns`) and every present leaf reached through its
 * rmap (`rmap_spte_ns`). Returns whether anything changed (the caller flushes).
 */
export function kvmMmuSlotRemoveWriteAccess(kvm: Kvm, slot: KvmMemorySlot, acct: MmuAccount): boolean {
  const mmu = kvm.mmu;
  const { ledger } = acct;
  for (let level = PG_LEVEL_4K; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) ledger.charge(CostId.rmap_walk_ns, rmapHeads(slot, level));
  let changed = false;
  const protectHuge = (level: number, gfn: number, e: number): void => {
    ledger.charge(CostId.rmap_spte_ns);
    if (e & ENTRY_W) {
      mmu.setHugeWritable(level, gfn, false);
      ledger.charge(CostId.spte_wrprot_ns);
      changed = true;
    }
  };
  for (let g = Math.floor(slot.baseGfn / G1_PAGES); g * G1_PAGES < slot.endGfn; g++) {
    const e3 = mmu.l3[g]!;
    if ((e3 & 3) === ENTRY_LEAF) {
      protectHuge(PG_LEVEL_1G, g * G1_PAGES, e3);
      continue;
    }
    if ((e3 & 3) !== ENTRY_TABLE) continue;
    const r0 = Math.max(g * 512, Math.floor(slot.baseGfn / R2));
    const r1 = Math.min(g * 512 + 512, Math.ceil(slot.endGfn / R2));
    for (let r = r0; r < r1; r++) {
      const e2 = mmu.l2[r]!;
      if ((e2 & 3) === ENTRY_LEAF) protectHuge(PG_LEVEL_2M, r * R2, e2);
      else if ((e2 & 3) === ENTRY_TABLE) {
        const lo = Math.max(slot.baseGfn, r * R2);
        const hi = Math.min(slot.endGfn, r * R2 + R2);
        const present = lo === r * R2 && hi === r * R2 + R2 ? mmu.present.chunkCount(r) : countRange(kvm, lo, hi);
        ledger.charge(CostId.rmap_spte_ns, present);
        const n = mmu.writable.clearRange(lo, hi);
        ledger.charge(CostId.spte_wrprot_ns, n);
        if (n > 0) changed = true;
      }
    }
  }
  return changed;
}

function countRange(kvm: Kvm, lo: number, hi: number): number {
  let n = 0;
  for (let g = lo; g < hi; g++) if (kvm.mmu.present.get(g)) n++;
  return n;
}
