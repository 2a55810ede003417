import { accountPass } from './account-pass.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';

/** Why a precopy migration is stopped before it completes: `migrate_cancel`, a failed destination, a timeout. */
export interface InterruptCause {
  readonly status: 'cancelled' | 'failed';
  readonly reason: string;
}

/**
 * The migration is stopped at `nowS`: a pass under way is accounted as far as it got, and dirty logging is turned
 * off as QEMU does (`memory_global_dirty_log_stop`): at once on the running VM, or, when the VM was paused for
 * stop-and-copy, postponed until the source VM runs again.
 */
export function interruptPrecopy(ctx: PrecopyContext, s: PrecopyState, cause: InterruptCause, nowS: number): void {
  if (s.phase === 'pass') accountPass(ctx, s, nowS);
  s.status = cause.status;
  s.errorDesc = cause.reason;
  if (s.phase === 'stop-copy') {
    s.downtimeS = null;
    s.stopRule = 'at-restart';
  } else s.stopRule = 'at-once';
  s.stoppedAtS = nowS;
  s.phase = 'done';
}
