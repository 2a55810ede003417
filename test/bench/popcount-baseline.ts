import { popcount32 } from '../../shared/src/common/chunked-bitmap.js';

/**
 * The raw baseline a model run is compared with: one popcount pass over a bitmap with one bit per 4 KiB page of
 * the guest's memory (the least work any per-page model must do). Returns the best of `reps` passes, in seconds.
 */
export function popcountBaseline(guestBytes: number, reps: number = 5): number {
  const words = new Uint32Array(Math.ceil(guestBytes / 4096 / 32));
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < words.length; i++) n += popcount32(words[i]!);
    best = Math.min(best, (performance.now() - t0) / 1e3);
    sink += n;
  }
  if (sink < 0) throw new Error('unreachable');
  return best;
}
