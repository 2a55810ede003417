import type { Gfn } from './pg-level.js';

/**
 * What running vCPUs do while an ioctl walks the page tables (the selftest's `-e`, or a guest that keeps running
 * while QEMU disables logging): supplied by the workload model, used to decide when a zapped region is refaulted.
 */
export interface VcpuActivity {
  /** vCPUs in guest mode during the ioctl (remote flushes must IPI and wait for each). */
  readonly running: number;
  /**
   * A time after which every page a running vCPU owns has been touched again, ns: one sweep of its slice for a
   * sequential pass; for random access a bound a page's next touch exceeds with probability e^-40.
   */
  readonly revisitNs: number;
  /**
   * The first access at or after `tNs` (absolute simulated ns) by any running vCPU to a page of [gfn, gfn + npages):
   * fills `out` and returns true, or returns false when none comes. (An out-parameter: this is called per region.)
   */
  firstTouch(gfn: Gfn, npages: number, tNs: number, out: Touch): boolean;
  /**
   * zap-leaf's race with the vCPUs: from `tNs` the walk zaps the leaves of [gfn, gfn + npages) in gfn order, one
   * every `zapNs`; the first access by a running vCPU to a leaf already zapped (it refaults the whole region huge)
   * fills `out` and returns true; false when none comes.
   */
  firstTouchOfZappedPrefix(gfn: Gfn, npages: number, tNs: number, zapNs: number, out: Touch): boolean;
}

/** Who touches a region first, and when (absolute simulated ns). */
export interface Touch {
  vcpuIdx: number;
  tNs: number;
}

export function newTouch(): Touch {
  // tNs starts as a non-integer so V8 gives the field a double representation from the start.
  return { vcpuIdx: -1, tNs: 0.5 };
}
