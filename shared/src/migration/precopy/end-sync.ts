import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { MIGRATION_OVERHEADS, TARGET_PAGE_SIZE } from './qemu-defaults.js';
import { startPass } from './start-pass.js';
import { startStopAndCopy } from './stop-and-copy.js';
import { triggerThrottle } from './throttle-trigger.js';
import { totalPages } from './total-pages.js';

/**
 * The bitmap sync after a pass is done at `nowS` (`migration_iteration_run`): the dirty pages are what remains; the
 * throttle triggers are checked; then QEMU's convergence test: with remaining bytes ≤ bandwidth × downtime-limit
 * (`threshold_size`) it switches over to stop-and-copy, otherwise it starts another pass, unless the migration has
 * run out of rounds or reached its horizon (it is then reported still `active`). Returns the duration of what comes
 * next, s, or null when the migration is over.
 */
export function endSync(ctx: PrecopyContext, s: PrecopyState, nowS: number): number | null {
  const m = ctx.job.migration;
  const sentBytes = s.pass!.bytes;
  s.syncs++;
  const dirtyPages = totalPages(s.dirty);
  s.remainingPages = dirtyPages;
  s.dirtyPagesRate = s.lastPassS > 0 ? dirtyPages / s.lastPassS : 0;
  s.expectedDowntimeS = (dirtyPages * TARGET_PAGE_SIZE) / ctx.bandwidth;
  triggerThrottle(ctx, s, dirtyPages, sentBytes);
  ctx.onPass?.({ pass: s.rounds, endS: nowS, durationS: s.lastPassS, sentBytes, dirtyPages, throttlePct: s.throttlePct });
  if (dirtyPages * TARGET_PAGE_SIZE <= ctx.bandwidth * m.downtime_limit_s) return startStopAndCopy(ctx, s);
  if (s.rounds >= MIGRATION_OVERHEADS.maxRounds || nowS >= m.horizon_s) {
    s.status = 'active';
    s.phase = 'done';
    return null;
  }
  return startPass(ctx, s, nowS);
}
