import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';

/** Pages per word of KVM's dirty bitmap (an `unsigned long`): CLEAR_DIRTY_LOG works word by word. */
export const BITMAP_WORD_PAGES = 64;

/** 64-page words holding the dirty pages: the pages of a class are dirty independently with the same probability. */
export function wordsDirty(classes: readonly PageClass[], dirty: readonly number[]): number[] {
  return classes.map((c, i) => {
    const p = Math.min(1, (dirty[i] ?? 0) / c.pages);
    return (c.pages / BITMAP_WORD_PAGES) * (1 - Math.pow(1 - p, BITMAP_WORD_PAGES));
  });
}
