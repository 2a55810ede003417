import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { AccessPattern } from '../workload/workload-spec.js';

/** Pages per word of KVM's dirty bitmap (an `unsigned long`): CLEAR_DIRTY_LOG works word by word. */
export const BITMAP_WORD_PAGES = 64;

/**
 * Blocks of `blockPages` pages (bitmap words, CLEAR chunks) holding a class's dirty pages. Random access: the pages
 * of a class are dirty independently with the same probability. Sequential access: the dirty pages of a class lie
 * in `runs` contiguous runs (one per running vCPU sweeping its slice), each starting at an arbitrary offset.
 */
export function blocksDirty(c: PageClass, dirty: number, blockPages: number, access: AccessPattern, runs: number): number {
  if (dirty <= 0) return 0;
  const size = Math.min(blockPages, c.pages);
  const blocks = c.pages / size;
  if (access === 'sequential') return Math.min(blocks, dirty / size + Math.max(1, runs));
  const p = Math.min(1, dirty / c.pages);
  return blocks * (1 - Math.pow(1 - p, size));
}

/** 64-page words holding the dirty pages, per class. */
export function wordsDirty(classes: readonly PageClass[], dirty: readonly number[], access: AccessPattern, runs: number): number[] {
  return classes.map((c, i) => blocksDirty(c, dirty[i] ?? 0, BITMAP_WORD_PAGES, access, runs));
}
