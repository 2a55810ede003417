import { rangeMask } from '../../common/chunked-bitmap.js';
import type { Gfn } from './pg-level.js';

/** Decides which pages of a sequential pass (`guestAccessSequential`) are written; the others are read. */
export interface WriteDecider {
  /** Fills `out` (16 words) with the written pages among bits [lo, hi) of the 2 MiB region starting at regionGfn. */
  fill(regionGfn: Gfn, lo: number, hi: number, out: Uint32Array): void;
}

/** Every page touched is written (memstress `-w 100`); the pass recognises it and takes its whole-region fast path. */
export const WRITE_ALL: WriteDecider = {
  fill(_g, lo, hi, out) {
    rangeMask(lo, hi, out);
  },
};

/** Every page touched is read (memstress `-w 0`); the pass recognises it and takes its whole-region fast path. */
export const WRITE_NONE: WriteDecider = {
  fill(_g, _lo, _hi, out) {
    out.fill(0);
  },
};
