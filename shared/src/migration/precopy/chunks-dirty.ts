import { CLEAR_CHUNK_PAGES } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { AccessPattern } from '../workload/workload-spec.js';
import { blocksDirty } from './words-dirty.js';

/** 1 GiB chunks that hold at least one dirty page (one CLEAR each), over all classes. */
export function chunksDirty(classes: readonly PageClass[], dirty: readonly number[], access: AccessPattern, runs: number): number {
  let n = 0;
  classes.forEach((c, i) => (n += blocksDirty(c, dirty[i] ?? 0, CLEAR_CHUNK_PAGES, access, runs)));
  return n;
}
