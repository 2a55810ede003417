import { accountPass } from './account-pass.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { offWire, type StepPlan } from './step-plan.js';

/**
 * The end of a complete pass at `nowS`: it is accounted, and the dirty bitmap is synced
 * (`migration_bitmap_sync_precopy`: KVM_GET_DIRTY_LOG). Returns the sync's step, off the wire.
 */
export function endPass(ctx: PrecopyContext, s: PrecopyState, nowS: number): StepPlan {
  s.lastPassS = accountPass(ctx, s, nowS);
  s.rounds++;
  s.phase = 'sync';
  return offWire(ctx.costs.getDirtyLog());
}
