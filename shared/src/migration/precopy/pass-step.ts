import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { onWire, type StepPlan } from './step-plan.js';
import { vcpusInGuest } from './vcpus-in-guest.js';

/**
 * One step of the pass under way: its share of the 1 GiB chunks is cleared just before being sent
 * (`migration_clear_memory_region_dirty_bitmap`: KVM_CLEAR_DIRTY_LOG, which re-protects the pages and, with
 * initially-set and eager split, splits the huge pages holding them), then its pages go out at the bandwidth
 * (`ram_save_target_page`) under precopy's rate limit. Returns the step.
 */
export function passStep(ctx: PrecopyContext, s: PrecopyState): StepPlan {
  const p = s.pass!;
  const f = 1 / p.steps;
  const clearS = ctx.costs.clearDirtyLog(
    s.dirty.map((d) => d * f),
    p.words.map((w) => w * f),
    p.chunks * f,
    vcpusInGuest(ctx, s),
    f,
    p.first,
  );
  return onWire(clearS, p.bytes * f, 'precopy');
}
