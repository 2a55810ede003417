import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { QEMU_DEFAULTS, TARGET_PAGE_SIZE } from './qemu-defaults.js';

/**
 * `migration_trigger_throttle`, with auto-converge or dirty-limit on, at a sync that closes a throttle-check period
 * (see `endSync`): when the pages dirtied in the period exceed the threshold share of the bytes sent in it, on a
 * second such check (`++dirty_rate_high_cnt >= 2`, the count then reset; a low check does not reset it),
 * auto-converge's throttle starts at its initial percentage or steps up to at most the maximum
 * (`mig_throttle_guest_down`), or else dirty-limit is switched on (`migration_dirty_limit_guest`).
 */
export function triggerThrottle(ctx: PrecopyContext, s: PrecopyState, dirtyPages: number, sentBytes: number): void {
  const m = ctx.job.migration;
  if (!(m.auto_converge || m.dirty_limit_bytes_per_s !== null)) return;
  const high = dirtyPages * TARGET_PAGE_SIZE > (sentBytes * QEMU_DEFAULTS.throttleTriggerThresholdPct) / 100;
  if (!high || ++s.highSyncs < QEMU_DEFAULTS.throttleTriggerSyncs) return;
  s.highSyncs = 0;
  if (m.auto_converge) {
    s.throttlePct =
      s.throttlePct === 0 ? QEMU_DEFAULTS.cpuThrottleInitialPct : Math.min(QEMU_DEFAULTS.maxCpuThrottlePct, s.throttlePct + QEMU_DEFAULTS.cpuThrottleIncrementPct);
  } else s.dirtyLimitOn = true;
}
