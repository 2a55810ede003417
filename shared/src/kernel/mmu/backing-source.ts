import { PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K } from './pg-level.js';

/**
 * Host memory backing a VM, named as the selftests' `-s` option (`enum vm_mem_backing_src_type`).
 * `anonymous_thp` maps 2 MiB only where the host actually backs the region with a transparent huge page.
 */
export const BACKING_SOURCES = ['anonymous', 'anonymous_thp', 'anonymous_hugetlb_2mb', 'anonymous_hugetlb_1gb'] as const;
export type BackingSource = (typeof BACKING_SOURCES)[number];

/** The largest level the backing can ever be mapped at (host page size). */
export function backingPageLevel(src: BackingSource): 1 | 2 | 3 {
  switch (src) {
    case 'anonymous':
      return PG_LEVEL_4K;
    case 'anonymous_thp':
    case 'anonymous_hugetlb_2mb':
      return PG_LEVEL_2M;
    case 'anonymous_hugetlb_1gb':
      return PG_LEVEL_1G;
  }
}
