import { chunksDirty } from './chunks-dirty.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { SWITCHOVER, WIRE } from './qemu-defaults.js';
import { onWire, type StepPlan } from './step-plan.js';
import { deviceStateS, vmStopS } from './switchover-stop.js';
import { wordsDirty } from './words-dirty.js';

/**
 * Stop-and-copy starts at `nowS` (QEMU 9.2 `migration_completion_precopy`, under the BQL): the VM is stopped
 * (`migration_stop_vm` → `vm_stop_force_state`), the rate limit is lifted (`migration_rate_set(RATE_LIMIT_DISABLED)`;
 * in 10.2 inside `migration_switchover_start`), `ram_save_complete` makes the last-stage sync
 * (`migration_bitmap_sync_precopy(true)`: KVM_GET_DIRTY_LOG) and sends every remaining page at the unthrottled
 * bandwidth, clearing each chunk before it is sent (KVM_CLEAR_DIRTY_LOG, no vCPU to interrupt), then the device
 * state goes and the return path is closed (`close_return_path_on_source`) before `migration_completion_end` takes
 * the downtime. Returns the step: the stop, sync and CLEARs, the pages with no rate limit, the device state.
 */
export function startStopAndCopy(ctx: PrecopyContext, s: PrecopyState, nowS: number): StepPlan {
  s.phase = 'stop-copy';
  s.vmStoppedAtS = nowS;
  const syncS = ctx.costs.getDirtyLog();
  s.syncs++;
  const access = ctx.job.vm.workload.access;
  const clearS = ctx.costs.clearDirtyLog(s.dirty, wordsDirty(ctx.classes, s.dirty, access, ctx.running), chunksDirty(ctx.classes, s.dirty, access, ctx.running), 0);
  return onWire(vmStopS(ctx) + syncS + clearS, s.remainingPages * WIRE.normalPageBytes, 'unthrottled', deviceStateS(ctx) + SWITCHOVER.returnPathCloseS);
}

/**
 * Stop-and-copy is over at `nowS`: the migration has completed. The stop of dirty logging is postponed until the
 * source VM runs again, which it never does. The downtime runs from the stop, or from the pause when the completion
 * timeout paused the VM.
 */
export function finishStopAndCopy(s: PrecopyState, nowS: number): null {
  const rest = s.remainingPages;
  s.transferredBytes += rest * WIRE.normalPageBytes;
  s.normalPages += rest;
  s.remainingPages = 0;
  s.downtimeS = nowS - (s.pausedAtS ?? s.vmStoppedAtS!);
  s.status = 'completed';
  s.phase = 'done';
  s.stopRule = 'never';
  return null;
}
