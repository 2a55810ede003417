import { startPostcopy } from './postcopy.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { MIGRATION_OVERHEADS, QEMU_DEFAULTS, TARGET_PAGE_SIZE } from './qemu-defaults.js';
import { startPass } from './start-pass.js';
import type { StepPlan } from './step-plan.js';
import { startStopAndCopy } from './stop-and-copy.js';
import { triggerThrottle } from './throttle-trigger.js';
import { totalPages } from './total-pages.js';

/**
 * The bitmap sync after a pass is done at `nowS` (`migration_bitmap_sync`, then `migration_iteration_run`): the
 * dirty pages are what remains; they and the bytes sent add to the throttle-check period, and only when more than a
 * second has passed since the last check are the throttle triggers checked over the period and the dirty-pages
 * rate updated (`migration_trigger_throttle`, `migration_update_rates`), the period then restarted. Then QEMU's
 * convergence test: with remaining bytes ≤ bandwidth × downtime-limit (`threshold_size`, the bandwidth measured over
 * the pass as `migration_update_counters` measures it: bytes sent over the time spent sending) it switches over to
 * stop-and-copy; with post-copy requested after this many passes it switches to post-copy (`postcopy_start`);
 * otherwise it starts another pass, unless the migration has run out of rounds or reached its horizon (it is then
 * reported still `active`). Returns the step that comes next, or null when the migration is over.
 */
export function endSync(ctx: PrecopyContext, s: PrecopyState, nowS: number): StepPlan | null {
  const m = ctx.job.migration;
  const sentBytes = s.pass!.bytes;
  s.syncs++;
  const dirtyPages = totalPages(s.dirty);
  s.remainingPages = dirtyPages;
  s.periodDirtyPages += dirtyPages;
  s.periodSentBytes += sentBytes;
  if (nowS > s.periodStartS + QEMU_DEFAULTS.throttleCheckPeriodS) {
    triggerThrottle(ctx, s, s.periodDirtyPages, s.periodSentBytes);
    s.dirtyPagesRate = s.periodDirtyPages / (nowS - s.periodStartS);
    s.periodStartS = nowS;
    s.periodDirtyPages = 0;
    s.periodSentBytes = 0;
  }
  const bandwidth = measuredBandwidth(ctx, s);
  s.expectedDowntimeS = (dirtyPages * TARGET_PAGE_SIZE) / bandwidth;
  ctx.onPass?.({ pass: s.rounds, endS: nowS, durationS: s.lastPassS, sentBytes, dirtyPages, throttlePct: s.throttlePct });
  if (dirtyPages * TARGET_PAGE_SIZE <= bandwidth * m.downtime_limit_s) return startStopAndCopy(ctx, s, nowS);
  if (m.postcopy !== null && s.rounds >= m.postcopy && s.pausedAtS === null) return startPostcopy(ctx, s, nowS);
  if (s.rounds >= MIGRATION_OVERHEADS.maxRounds || nowS >= m.horizon_s) {
    s.status = 'active';
    s.phase = 'done';
    return null;
  }
  return startPass(ctx, s, nowS);
}

/**
 * The bandwidth of the pass just done: its bytes over its time on the wire (QEMU's `mbps` over the iteration), or
 * precopy's bandwidth when it sent nothing.
 */
export function measuredBandwidth(ctx: PrecopyContext, s: PrecopyState): number {
  const p = s.pass!;
  return p.transferS > 0 && p.bytes > 0 ? p.bytes / p.transferS : ctx.bandwidth;
}
