import type { MigrationJob } from '../job/migration-job.js';
import { zeroShare } from '../workload/zero-share.js';
import { MIGRATION_OVERHEADS, WIRE } from './qemu-defaults.js';
import { precopyBandwidth } from './send-bandwidth.js';

/**
 * The first precopy pass alone, in seconds: setup besides the KVM ioctls, then all of RAM on the wire (normal pages
 * with their header, zero pages as markers) at `bandwidthBytesPerS`. Every migration that gets past its first pass
 * takes longer than this: setup also enables dirty logging and syncs the bitmap, and each step of a pass adds its
 * CLEARs (see `runPrecopy`).
 */
export function firstPassSeconds(ramBytes: number, zeroFraction: number, bandwidthBytesPerS: number): number {
  const pages = ramBytes / 4096;
  const z = zeroFraction;
  return MIGRATION_OVERHEADS.setupS + (pages * (1 - z) * WIRE.normalPageBytes + pages * z * WIRE.zeroPageBytes) / bandwidthBytesPerS;
}

/**
 * The earliest simulated time, in seconds after its start, at which a job can end: a migration ends no sooner than
 * its first pass unless it is cancelled, its destination fails or its completion timeout fires first (whatever its
 * action; a cancelled job ends only after the disable); a dirty-rate
 * probe lasts at least its `calc-time`. The fleet simulation may process events up to this time before the job's
 * result is in, so it must never exceed the duration `runMigrationJob` reports (a property test checks it). Jobs of
 * SimGrid's model get 0: no bound is claimed for them.
 */
export function earliestEndS(job: MigrationJob): number {
  if (job.model !== 'migsim') return 0; // SimGrid's model: no bound is claimed
  if (job.kind === 'dirty-rate-probe') return job.probe.calc_time_s;
  const m = job.migration;
  // A post-copy switch, at the earliest, follows the first pass (`postcopy` ≥ 1) or the timeout.
  const firstPass = firstPassSeconds(job.vm.ram_bytes, zeroShare(job.vm.zero_fraction, job.vm.workload), precopyBandwidth(m));
  return Math.min(firstPass, m.cancel_at_s ?? Infinity, m.fail_at_s ?? Infinity, m.timeout_s ?? Infinity);
}
