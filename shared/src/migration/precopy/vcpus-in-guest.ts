import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';

/** vCPUs in guest mode now: the running ones, none once the completion timeout has paused the VM. */
export function vcpusInGuest(ctx: PrecopyContext, s: PrecopyState): number {
  return s.pausedAtS === null ? ctx.running : 0;
}
