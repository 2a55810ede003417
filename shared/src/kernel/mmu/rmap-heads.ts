import type { KvmMemorySlot } from './kvm-memory-slot.js';
import { pagesPerHpage } from './pg-level.js';

/**
 * Heads in a memslot's rmap array of `level` (`slot->arch.rmap[level - 1]`, sized by `gfn_to_index(base_gfn +
 * npages - 1, base_gfn, level) + 1`): one per level-aligned gfn range the slot touches. A shadow-MMU slot walk
 * (`walk_slot_rmaps`) visits every one of them, whether an SPTE is there or not.
 */
export function rmapHeads(slot: KvmMemorySlot, level: number): number {
  const size = pagesPerHpage(level);
  return Math.floor((slot.endGfn - 1) / size) - Math.floor(slot.baseGfn / size) + 1;
}
