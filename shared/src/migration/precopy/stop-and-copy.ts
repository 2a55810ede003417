import { ioctlSeconds } from './ioctl-seconds.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { MIGRATION_OVERHEADS, WIRE } from './qemu-defaults.js';

/**
 * Stop-and-copy starts (`migration_completion`): the VM is paused; the last sync, the rest of RAM and the device
 * state. Returns the downtime, s.
 */
export function startStopAndCopy(ctx: PrecopyContext, s: PrecopyState): number {
  s.phase = 'stop-copy';
  const lastGetS = ioctlSeconds(ctx.mmu, () => ctx.mmu.getDirtyLog());
  s.syncs++;
  s.downtimeS = (s.remainingPages * WIRE.normalPageBytes) / ctx.bandwidth + lastGetS + MIGRATION_OVERHEADS.switchoverS;
  return s.downtimeS;
}

/**
 * Stop-and-copy is over: the migration has completed. The stop of dirty logging is postponed until the source VM
 * runs again, which it never does.
 */
export function finishStopAndCopy(s: PrecopyState): null {
  const rest = s.remainingPages;
  s.transferredBytes += rest * WIRE.normalPageBytes;
  s.normalPages += rest;
  s.remainingPages = 0;
  s.status = 'completed';
  s.phase = 'done';
  s.stopRule = 'never';
  return null;
}
