import type { MigrationResult } from '../job/migration-result.js';
import { jobCosts } from '../job/job-costs.js';
import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { GUEST_IMPACT, STREAM, TARGET_PAGE_SIZE, WIRE } from './qemu-defaults.js';

/** Seconds the VM did not run: from the stop (or the timeout's pause) until it ran again on either side. */
function vmDownS(s: PrecopyState, endS: number): number {
  const from = s.pausedAtS ?? s.vmStoppedAtS;
  if (from === null) return 0;
  if (s.stopRule === 'at-restart') return s.stoppedAtS! - from;
  if (s.status === 'completed') return s.downtimeS!;
  return endS - from; // lost in post-copy
}

/**
 * The result record of a precopy migration whose engine stopped at `endS`, shaped like `query-migrate`, with its
 * whole cost. The MMU block evaluates each strategy's disable when logging was turned off on the source (after a
 * cancel the throttle is lifted, and after a restart the VM runs again, so the running vCPUs are in guest mode at
 * full speed); the job then ends when the disable of the strategy in effect returns (`migration_cleanup` reports
 * the end after `memory_global_dirty_log_stop`). Without counterfactuals (`PrecopyOptions`) only the disable in
 * effect is evaluated, and `mmu` is null.
 */
export function precopyResult(ctx: PrecopyContext, s: PrecopyState, endS: number): MigrationResult {
  const job = ctx.job;
  const running = s.stopRule === 'never' ? 0 : ctx.running;
  const disable = s.stopRule === 'never' ? null : { running, rateScale: 1 };
  const inEffect = ctx.mmu.cfg.kernel.inEffect.strategy;
  const costs = jobCosts(ctx.costs, disable, {
    migrationThreadS: s.transferredBytes / STREAM.bytesPerCoreS,
    downtimeS: vmDownS(s, endS) * job.vm.vcpus,
    ept4kS: s.ept4kS,
    throttlingS: s.throttlingS,
    enableBqlS: s.enableBqlS,
    postcopyFaultsS: s.postcopyRequests * (GUEST_IMPACT.postcopyPageRequestS + WIRE.normalPageBytes / ctx.unthrottled),
  }, ctx.counterfactuals);
  // The disable in effect: from its MMU block, or (without counterfactuals) evaluated alone, as `mmuBlocks` does.
  const disableS = costs.mmu !== null ? costs.mmu[inEffect].disable_s : disable !== null ? ctx.mmu.evaluateDisable(inEffect, disable.running, disable.rateScale).ioctlNs / 1e9 : 0;
  const totalTimeS = s.stoppedAtS === null ? endS : s.stoppedAtS + disableS;
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
    probe_mode: null,
    postcopy_started_at_s: s.postcopyAtS,
    postcopy_page_requests: Math.round(s.postcopyRequests),
    strategy_in_effect: inEffect,
    host_cpu: costs.hostCpu,
    guest_impact: costs.guestImpact,
    mmu: costs.mmu,
  };
}
