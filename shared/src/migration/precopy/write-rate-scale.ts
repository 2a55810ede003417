import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';

/**
 * How fast the guest writes under the migration's brakes, as a share of its unthrottled rate: auto-converge's CPU
 * throttle runs the vCPUs `100 - throttle` % of the time (`cpu_throttle_set`); once dirty-limit is on, every vCPU
 * gets the same quota (`migration_dirty_limit_guest` → `qmp_set_vcpu_dirty_limit(false, -1, quota)`), so the
 * running vCPUs, over which the guest's writes are spread, dirty at most running × quota; the tighter brake wins.
 * It is also the share of its time a running vCPU still runs.
 */
export function writeRateScale(ctx: PrecopyContext, s: PrecopyState): number {
  const limit = ctx.job.migration.dirty_limit_bytes_per_s;
  let k = 1 - s.throttlePct / 100;
  if (s.dirtyLimitOn && limit !== null && ctx.writeBytesPerS > 0) {
    k = Math.min(k, (ctx.running * limit) / ctx.writeBytesPerS);
  }
  return k;
}
