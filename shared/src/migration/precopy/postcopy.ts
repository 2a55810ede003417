import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { SWITCHOVER, WIRE } from './qemu-defaults.js';
import { onWire, type StepPlan } from './step-plan.js';
import { deviceStateS, vmStopS } from './switchover-stop.js';

/**
 * Share of a missing page's first touches that come before the page arrives, when it arrives at a uniform time of a
 * push lasting `x` mean times between touches: 1 − (1 − e^(−x)) / x.
 */
function touchedBeforeArrival(x: number): number {
  return x < 1e-9 ? x / 2 : 1 + Math.expm1(-x) / x;
}

/**
 * The switch to post-copy at `nowS` (`migrate-start-postcopy` → QEMU 9.2 `postcopy_start`): the source VM stops
 * (`migration_stop_vm`) and stays stopped, so its dirty-log stop is postponed and never runs; the last sync
 * (`ram_postcopy_send_discard_bitmap` → `migration_bitmap_sync`) and the device-state package go, and the
 * destination starts (the downtime). The remaining pages are then pushed at the unthrottled bandwidth (the rate is
 * `max-postcopy-bandwidth`, 0 = unlimited); meanwhile the destination's vCPUs touching a page not received yet
 * fault on it (userfaultfd → `postcopy_request_page` → `migrate_send_rp_req_pages`), one page request each. The
 * missing pages of a class arrive uniformly over the push and are touched as the class's unthrottled rates say;
 * the push's length for that estimate is taken at the unthrottled bandwidth of a link of its own (an assumption:
 * under contention the push takes longer and more pages are requested). Returns the step: the switchover off the
 * wire, then the push.
 */
export function startPostcopy(ctx: PrecopyContext, s: PrecopyState, nowS: number): StepPlan {
  s.phase = 'postcopy';
  s.postcopyAtS = nowS;
  s.vmStoppedAtS = nowS;
  const syncS = ctx.costs.getDirtyLog();
  s.syncs++;
  s.downtimeS = vmStopS(ctx) + syncS + deviceStateS(ctx) + SWITCHOVER.returnPathCloseS;
  const pushS = (s.remainingPages * WIRE.normalPageBytes) / ctx.unthrottled;
  let requests = 0;
  ctx.classes.forEach((c, i) => (requests += (s.dirty[i] ?? 0) * touchedBeforeArrival((c.writeRate + c.readRate) * pushS)));
  s.postcopyRequests = requests;
  return onWire(s.downtimeS, s.remainingPages * WIRE.normalPageBytes, 'unthrottled');
}

/** Post-copy has sent the last page: the migration has completed; the source VM never runs again. */
export function finishPostcopy(s: PrecopyState): null {
  const rest = s.remainingPages;
  s.transferredBytes += rest * WIRE.normalPageBytes;
  s.normalPages += rest;
  s.remainingPages = 0;
  s.status = 'completed';
  s.phase = 'done';
  s.stopRule = 'never';
  return null;
}
