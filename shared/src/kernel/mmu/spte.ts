/**
 * SPTE values as the model synthesises them. The TDP MMU model stores page tables compactly (per-region state
 * words and bitmaps, see tdp-mmu.ts) and builds 64-bit-SPTE-like values on demand for the tdp_iter cursor, so
 * walks read like the kernel's: `isShadowPresentPte(iter.oldSpte)`, `isLastSpte(iter.oldSpte, iter.level)`.
 * Bit positions are the model's own, not the hardware's.
 */
export type Spte = number;

export const SPTE_PRESENT = 1 << 0;
/** PT_WRITABLE_MASK: the guest may write without a write-protection fault (or, with PML, the D bit is set). */
export const SPTE_WRITABLE = 1 << 1;
/** PT_PAGE_SIZE_MASK: a leaf above PG_LEVEL_4K (a huge page). */
export const SPTE_LARGE = 1 << 7;
/** The non-present value (`SHADOW_NONPRESENT_VALUE`). */
export const SHADOW_NONPRESENT_VALUE = 0;

export function isShadowPresentPte(spte: Spte): boolean {
  return (spte & SPTE_PRESENT) !== 0;
}

export function isLargePte(spte: Spte): boolean {
  return (spte & SPTE_LARGE) !== 0;
}

/** A leaf: any present SPTE at PG_LEVEL_4K, or a huge SPTE above it. */
export function isLastSpte(spte: Spte, level: number): boolean {
  return level === 1 || isLargePte(spte);
}

/** A leaf SPTE (`make_spte`): huge above PG_LEVEL_4K. */
export function makeSpte(level: number, writable: boolean): Spte {
  return SPTE_PRESENT | (writable ? SPTE_WRITABLE : 0) | (level > 1 ? SPTE_LARGE : 0);
}

/** A non-leaf SPTE pointing at a child page table (`make_nonleaf_spte`). */
export function makeNonleafSpte(): Spte {
  return SPTE_PRESENT | SPTE_WRITABLE;
}
