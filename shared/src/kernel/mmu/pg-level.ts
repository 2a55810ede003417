/**
 * Page-table levels, as `enum pg_level` in arch/x86/include/asm/pgtable_types.h: PG_LEVEL_4K = 1 is a leaf SPTE
 * mapping 4 KiB, PG_LEVEL_2M = 2 and PG_LEVEL_1G = 3 map huge pages, level 4 is the root of 4-level EPT/NPT.
 */
export const PG_LEVEL_4K = 1;
export const PG_LEVEL_2M = 2;
export const PG_LEVEL_1G = 3;
/** Root level of the TDP MMU (4-level EPT/NPT; 5-level paging is not modelled). */
export const ROOT_LEVEL = 4;
/** Largest level KVM maps huge on x86 (`KVM_MAX_HUGEPAGE_LEVEL`). */
export const KVM_MAX_HUGEPAGE_LEVEL = PG_LEVEL_1G;

/** Guest frame number (`gfn_t`): guest physical address >> 12. */
export type Gfn = number;

/** Entries in one page-table page (`SPTE_ENT_PER_PAGE`). */
export const SPTE_ENT_PER_PAGE = 512;

/** 4 KiB pages mapped by one SPTE at `level` (`KVM_PAGES_PER_HPAGE`). */
const PAGES_PER_HPAGE = [0, 1, 512, 512 * 512, 512 * 512 * 512, 512 * 512 * 512 * 512];

export function pagesPerHpage(level: number): number {
  return PAGES_PER_HPAGE[level]!;
}
