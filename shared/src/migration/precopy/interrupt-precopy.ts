import { accountPass } from './account-pass.js';
import { startPostcopy } from './postcopy.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { SWITCHOVER, WIRE } from './qemu-defaults.js';
import type { InterruptOutcome } from './step-plan.js';

/** What interrupts a migration: `migrate_cancel`, a failed destination, the completion timeout. */
export type InterruptKind = 'cancel' | 'fail' | 'timeout';

const REASONS: Record<InterruptKind, string> = {
  cancel: 'migrate_cancel',
  fail: 'destination failed',
  timeout: 'completion timeout: aborted',
};

/** Precopy is still sending (not stopping, not switched, not paused): the completion timeout's actions apply. */
function precopyRunning(s: PrecopyState): boolean {
  return (s.phase === 'pass' || s.phase === 'sync') && s.pausedAtS === null;
}

/**
 * An interrupt at `nowS`, `pushedShare` of the step's bytes being through the wire. Returns `carry-on` (the step
 * under way goes on), the step replacing it, or null (the migration is over).
 * - The completion timeout with action `postcopy` switches a running precopy to post-copy (a pass under way is
 *   accounted as far as it got); with action `pause` it pauses the VM and precopy goes on, the guest writing
 *   nothing more, until the rest converges (the downtime grows); with `abort` it cancels, as `migrate_cancel` does.
 * - In post-copy a cancel or an abort is refused (Nova refuses to abort a post-copy migration); a failure loses the
 *   VM: the source, stopped, never runs again, so its dirty-log stop never runs (`postcopy-ram`: "if the
 *   migration fails during postcopy the VM will fail").
 * - Otherwise the migration ends, `cancelled` or `failed`: the migration thread finishes
 *   (`migration_iteration_finish`), restarting the source VM with `vm_start` if stop-and-copy (or the timeout's
 *   pause) had stopped it, and `migration_cleanup` then stops dirty logging at once on the running VM
 *   (`ram_save_cleanup` → `memory_global_dirty_log_stop`, under the BQL) before the job reports its end: the stop
 *   begins now (after the restart), and the job lasts until the disable returns.
 */
export function interruptPrecopy(ctx: PrecopyContext, s: PrecopyState, kind: InterruptKind, nowS: number, pushedShare: number): InterruptOutcome {
  if (kind === 'timeout' && ctx.job.migration.timeout_action !== 'abort') {
    if (!precopyRunning(s)) return 'carry-on';
    if (ctx.job.migration.timeout_action === 'pause') {
      s.pausedAtS = nowS;
      return 'carry-on';
    }
    if (s.phase === 'pass') accountPass(ctx, s, nowS);
    return startPostcopy(ctx, s, nowS);
  }
  if (s.phase === 'postcopy') {
    if (kind !== 'fail') return 'carry-on';
    const pushed = Math.min(1, Math.max(0, pushedShare));
    s.transferredBytes += s.remainingPages * pushed * WIRE.normalPageBytes;
    s.normalPages += s.remainingPages * pushed;
    s.remainingPages *= 1 - pushed;
    s.postcopyRequests *= pushed;
    s.status = 'failed';
    s.errorDesc = 'destination failed during post-copy: the VM is lost';
    s.phase = 'done';
    return null;
  }
  if (s.phase === 'pass') accountPass(ctx, s, nowS);
  s.status = kind === 'fail' ? 'failed' : 'cancelled';
  s.errorDesc = REASONS[kind];
  if (s.phase === 'stop-copy' || s.pausedAtS !== null) {
    s.stopRule = 'at-restart';
    s.stoppedAtS = nowS + SWITCHOVER.vmStartS;
    s.downtimeS = null;
  } else {
    s.stopRule = 'at-once';
    s.stoppedAtS = nowS;
  }
  s.phase = 'done';
  return null;
}
