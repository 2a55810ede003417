import { bqlStallS } from './bql-stall.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { MIGRATION_OVERHEADS } from './qemu-defaults.js';
import { offWire, type StepPlan } from './step-plan.js';

/**
 * Setup (`ram_save_setup` → `ram_init_bitmaps`, under the BQL): dirty logging is turned on
 * (`memory_global_dirty_log_start`: KVM_SET_USER_MEMORY_REGION with KVM_MEM_LOG_DIRTY_PAGES) and the bitmap synced
 * once (`migration_bitmap_sync_precopy`), which starts the first throttle-check period (`time_last_bitmap_sync`).
 * BQL-bound exits of the running vCPUs wait meanwhile. Returns the step: setup, off the wire.
 */
export function setupPrecopy(ctx: PrecopyContext, s: PrecopyState): StepPlan {
  const enableS = ctx.costs.enable(ctx.running);
  s.enableNs = enableS * 1e9;
  const getS = ctx.costs.getDirtyLog();
  s.syncs++;
  s.enableBqlS = bqlStallS(enableS + getS, ctx.running);
  s.setupTimeS = enableS + getS + MIGRATION_OVERHEADS.setupS;
  s.periodStartS = s.setupTimeS;
  return offWire(s.setupTimeS);
}
