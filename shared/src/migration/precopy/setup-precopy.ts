import { ioctlSeconds } from './ioctl-seconds.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { MIGRATION_OVERHEADS } from './qemu-defaults.js';

/**
 * Setup (`ram_save_setup` → `ram_init_bitmaps`): dirty logging is turned on (`memory_global_dirty_log_start`:
 * KVM_SET_USER_MEMORY_REGION with KVM_MEM_LOG_DIRTY_PAGES) and the bitmap synced once
 * (`migration_bitmap_sync_precopy`). Returns how long setup takes, s.
 */
export function setupPrecopy(ctx: PrecopyContext, s: PrecopyState): number {
  const mmu = ctx.mmu;
  s.enableNs = ioctlSeconds(mmu, () => mmu.enable(ctx.running)) * 1e9;
  const getS = ioctlSeconds(mmu, () => mmu.getDirtyLog());
  s.syncs++;
  s.setupTimeS = s.enableNs / 1e9 + getS + MIGRATION_OVERHEADS.setupS;
  return s.setupTimeS;
}
