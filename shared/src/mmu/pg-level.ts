/**
 * Page-table levels, as `enum pg_level` in arch/x86/include/asm/pgtable_types.h: PG_LEVEL_4K = 1 is a leaf SPTE
 * mapping 4 KiB, PG_LEVEL_2M = 2 and PG_LEVEL_1G = 3 map huge pages, level 4 is the root of 4-level EPT/NPT.
 */
export const PG_LEVEL_4K = 1;
export const PG_LEVEL_2M = 2;
export const PG_LEVEL_1G = 3;
export const PG_LEVEL_512G = 4;
/** Root level of the TDP MMU (4-level EPT/NPT; 5-level paging is not modelled). */
export const ROOT_LEVEL = 4;
/** Largest level KVM maps huge on x86 (`KVM_MAX_HUGEPAGE_LEVEL`). */
export const KVM_MAX_HUGEPAGE_LEVEL = PG_LEVEL_1G;

export type PgLevel = 1 | 2 | 3 | 4;

/** Guest frame number (`gfn_t`): guest physical address >> 12. */
export type Gfn = number;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** Entries in one page-table page (`SPTE_ENT_PER_PAGE`). */
export const SPTE_ENT_PER_PAGE = 512;
/** Bytes of one page-table page (`struct kvm_mmu_page` spt). */
export const SP_BYTES = 4096;

/** log2 of the 4 KiB pages mapped by one SPTE at `level` (`KVM_HPAGE_GFN_SHIFT`). */
export function hpageGfnShift(level: number): number {
  return (level - 1) * 9;
}

/** 4 KiB pages mapped by one SPTE at `level` (`KVM_PAGES_PER_HPAGE`). */
const PAGES_PER_HPAGE = [0, 1, 512, 512 * 512, 512 * 512 * 512, 512 * 512 * 512 * 512];

export function pagesPerHpage(level: number): number {
  return PAGES_PER_HPAGE[level]!;
}

/** Bytes mapped by one SPTE at `level`. */
export function hpageBytes(level: number): number {
  return pagesPerHpage(level) * PAGE_SIZE;
}

export function levelName(level: number): '4K' | '2M' | '1G' | '512G' {
  switch (level) {
    case PG_LEVEL_4K:
      return '4K';
    case PG_LEVEL_2M:
      return '2M';
    case PG_LEVEL_1G:
      return '1G';
    default:
      return '512G';
  }
}
