import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';

/**
 * How fast the guest writes under the migration's brakes, as a share of its unthrottled rate: auto-converge's CPU
 * throttle runs the vCPUs `100 - throttle` % of the time (`cpu_throttle_set`); once dirty-limit is on, each vCPU
 * dirties at most `dirty_limit_bytes_per_s` (`dirtylimit_set_all`); the tighter brake wins.
 */
export function writeRateScale(ctx: PrecopyContext, s: PrecopyState): number {
  const limit = ctx.job.migration.dirty_limit_bytes_per_s;
  let k = 1 - s.throttlePct / 100;
  if (s.dirtyLimitOn && limit !== null && ctx.writeBytesPerS > 0) {
    k = Math.min(k, (ctx.job.vm.vcpus * limit) / ctx.writeBytesPerS);
  }
  return k;
}
