import type { WorkloadSpec } from './workload-spec.js';

/**
 * Share of guest RAM that is zero pages when a migration starts: the job's `zero_fraction`, and at least what the
 * guest never touched (untouched memory reads as zeros, so QEMU sends it as zero-page markers).
 */
export function zeroShare(zeroFraction: number, workload: WorkloadSpec): number {
  return Math.max(zeroFraction, 1 - workload.touched_fraction);
}
