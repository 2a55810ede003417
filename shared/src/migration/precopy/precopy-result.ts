import type { MigrationResult } from '../job/migration-result.js';
import { mmuBlocks } from '../job/mmu-blocks.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { TARGET_PAGE_SIZE } from './qemu-defaults.js';

/**
 * The result record of a precopy migration that ended at `totalTimeS`, shaped like `query-migrate`. The MMU block
 * evaluates each strategy's disable when logging was turned off on the source: after a cancel the throttle is
 * lifted, and after a restart the VM runs again, so vCPUs are in guest mode at full speed.
 */
export function precopyResult(ctx: PrecopyContext, s: PrecopyState, totalTimeS: number): MigrationResult {
  const job = ctx.job;
  const disable = s.stopRule === 'never' ? null : { running: ctx.running, rateScale: 1 };
  return {
    job: 'migration',
    model: 'migsim',
    status: s.status,
    error_desc: s.errorDesc,
    total_time_s: totalTimeS,
    setup_time_s: s.setupTimeS,
    downtime_s: s.downtimeS,
    expected_downtime_s: s.expectedDowntimeS,
    cpu_throttle_percentage: s.throttlePct,
    dirty_sync_count: s.syncs,
    rounds: s.rounds,
    ram: {
      transferred_bytes: Math.round(s.transferredBytes),
      remaining_bytes: Math.round(s.remainingPages * TARGET_PAGE_SIZE),
      total_bytes: job.vm.ram_bytes,
      duplicate_pages: Math.round(s.duplicatePages),
      normal_pages: Math.round(s.normalPages),
      normal_bytes: Math.round(s.normalPages * TARGET_PAGE_SIZE),
      dirty_pages_rate: s.dirtyPagesRate,
      dirty_sync_count: s.syncs,
      page_size_bytes: TARGET_PAGE_SIZE,
      mbps: totalTimeS > 0 ? (s.transferredBytes * 8) / 1e6 / totalTimeS : 0,
    },
    dirty_log_stop: s.stopRule,
    dirty_log_stopped_at_s: s.stoppedAtS,
    measured_dirty_rate_bytes_per_s: null,
    strategy_in_effect: ctx.mmu.cfg.kernel.inEffect.strategy,
    mmu: mmuBlocks(ctx.mmu, disable),
  };
}
