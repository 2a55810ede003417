import { CLEAR_CHUNK_PAGES } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';

/** 1 GiB chunks that hold at least one dirty page (one CLEAR each). */
export function chunksDirty(classes: readonly PageClass[], dirty: readonly number[]): number {
  let n = 0;
  classes.forEach((c, i) => {
    const p = Math.min(1, (dirty[i] ?? 0) / c.pages);
    const chunkPages = Math.min(CLEAR_CHUNK_PAGES, c.pages);
    n += (c.pages / chunkPages) * (1 - Math.pow(1 - p, chunkPages));
  });
  return n;
}
