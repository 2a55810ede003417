import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { QEMU_DEFAULTS, TARGET_PAGE_SIZE } from './qemu-defaults.js';

/**
 * `migration_trigger_throttle` at a sync, with auto-converge or dirty-limit on: when the pages dirtied since the
 * last sync exceed the threshold share of the bytes sent, twice in a row, dirty-limit is switched on and
 * auto-converge's throttle starts at its initial percentage or steps up, to at most the maximum.
 */
export function triggerThrottle(ctx: PrecopyContext, s: PrecopyState, dirtyPages: number, sentBytes: number): void {
  const m = ctx.job.migration;
  if (!(m.auto_converge || m.dirty_limit_bytes_per_s !== null)) return;
  const high = dirtyPages * TARGET_PAGE_SIZE > (sentBytes * QEMU_DEFAULTS.throttleTriggerThresholdPct) / 100;
  if (!high || ++s.highSyncs < QEMU_DEFAULTS.throttleTriggerSyncs) return;
  s.highSyncs = 0;
  if (m.dirty_limit_bytes_per_s !== null) s.dirtyLimitOn = true;
  if (m.auto_converge) {
    s.throttlePct =
      s.throttlePct === 0 ? QEMU_DEFAULTS.cpuThrottleInitialPct : Math.min(QEMU_DEFAULTS.maxCpuThrottlePct, s.throttlePct + QEMU_DEFAULTS.cpuThrottleIncrementPct);
  }
}
