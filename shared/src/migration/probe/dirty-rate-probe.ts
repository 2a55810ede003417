import { CLEAR_CHUNK_PAGES } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { jobCosts } from '../job/job-costs.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import { aggregateFor } from '../precopy/aggregate-for.js';
import { bqlStallS } from '../precopy/bql-stall.js';
import { LoggingCosts } from '../precopy/logging-costs.js';
import { GUEST_IMPACT, MIGRATION_OVERHEADS, QEMU_DEFAULTS, TARGET_PAGE_SIZE } from '../precopy/qemu-defaults.js';
import { runningVcpus } from '../precopy/running-vcpus.js';
import { share4k, touchShares } from '../precopy/share-4k.js';
import { totalPages } from '../precopy/total-pages.js';
import { BITMAP_WORD_PAGES, wordsDirty } from '../precopy/words-dirty.js';

/** When a probe's phases end, s, and what it costs outside the MMU operations. */
interface ProbeRun {
  readonly setupS: number;
  readonly syncs: number;
  /** When logging began to be stopped; null when it was never on. */
  readonly stoppedAtS: number | null;
  /** The end when logging was never on. */
  readonly endS: number;
  readonly enableNs: number;
  readonly enableBqlS: number;
  readonly ept4kS: number;
  /** CPU of QEMU's dirty-rate thread outside KVM (page-sampling's hashing), s. */
  readonly qemuThreadS: number;
}

/**
 * QEMU `calc-dirty-rate` (`migration/dirtyrate.c`, QEMU 6.2 – 10.2) on a running VM, in its three modes; `calc-time`
 * is the job's, the guest's writes over it are the measurement.
 * - `page-sampling` (`calculate_dirtyrate_sample_vm`, the default): 512 pages per GiB are hashed
 *   (`record_ramblock_hash_info`, within calc-time) and hashed again after it (`compare_page_hash_info`), CPU of
 *   QEMU's dirty-rate thread (counted with the migration thread's); dirty logging is never enabled: no MMU cost, no
 *   disable.
 * - `dirty-bitmap` (`calculate_dirtyrate_dirty_bitmap`): under the BQL, logging starts
 *   (`memory_global_dirty_log_start`), one sync is discarded and every page is re-protected
 *   (`dirtyrate_manual_reset_protect`: a CLEAR of the whole bitmap, which with initially-set and eager split splits
 *   every huge page); after calc-time `global_dirty_log_sync(flag, one_shot=true)` syncs and stops logging under
 *   the BQL: a full enable + disable cycle on a live VM.
 * - `dirty-ring` (`calculate_dirtyrate_dirty_ring`): logging starts without initially-set (everything protected),
 *   the vCPUs' rings are harvested (each dirty page re-protected) and logging stops.
 * The job ends when the disable of the strategy in effect returns.
 */
export function runDirtyRateProbe(job: MigrationJob, profile: CostProfile): MigrationResult {
  const { mmu, classes, pages } = aggregateFor(job, profile);
  const costs = new LoggingCosts(mmu);
  const running = runningVcpus(job);
  const calcS = job.probe.calc_time_s;
  const written = classes.map((c) => c.pages * -Math.expm1(-c.writeRate * calcS));
  const measured = (totalPages(written) * TARGET_PAGE_SIZE) / calcS;
  let run: ProbeRun;
  if (job.probe.mode === 'page-sampling') {
    const sampled = (QEMU_DEFAULTS.samplePagesPerGiB * job.vm.ram_bytes) / 2 ** 30;
    const hashS = (sampled * MIGRATION_OVERHEADS.sampleHashNsPerPage) / 1e9;
    run = { setupS: hashS, syncs: 0, stoppedAtS: null, endS: calcS + hashS, enableNs: 0, enableBqlS: 0, ept4kS: 0, qemuThreadS: 2 * hashS };
  } else {
    const enableS = costs.enable(running);
    let startS = enableS;
    let syncs = 0;
    if (job.probe.mode === 'dirty-bitmap') {
      startS += costs.getDirtyLog();
      syncs++;
      startS += costs.clearDirtyLog(
        classes.map((c) => c.pages),
        classes.map((c) => c.pages / BITMAP_WORD_PAGES),
        Math.ceil(pages / CLEAR_CHUNK_PAGES),
        running,
      );
    }
    const setupS = startS + MIGRATION_OVERHEADS.setupS;
    const ept4kS = running * calcS * share4k(mmu, touchShares(classes)) * GUEST_IMPACT.ept4kSlowdown;
    costs.guestWrites(written, calcS);
    let endS: number;
    if (job.probe.mode === 'dirty-bitmap') endS = costs.getDirtyLog();
    else endS = costs.clearDirtyLog(written, wordsDirty(classes, written, job.vm.workload.access, running), 1, running);
    syncs++;
    run = { setupS, syncs, stoppedAtS: setupS + calcS + endS, endS: 0, enableNs: enableS * 1e9, enableBqlS: bqlStallS(startS, running), ept4kS, qemuThreadS: 0 };
  }
  const parts = { migrationThreadS: run.qemuThreadS, downtimeS: 0, ept4kS: run.ept4kS, throttlingS: 0, enableBqlS: run.enableBqlS, postcopyFaultsS: 0 };
  const c = jobCosts(costs, run.stoppedAtS === null ? null : { running, rateScale: 1 }, parts);
  const totalTimeS = run.stoppedAtS === null ? run.endS : run.stoppedAtS + c.mmu[mmu.cfg.kernel.inEffect.strategy].disable_s;
  return {
    job: 'dirty-rate-probe',
    model: 'migsim',
    status: 'completed',
    error_desc: null,
    total_time_s: totalTimeS,
    setup_time_s: run.setupS,
    downtime_s: null,
    expected_downtime_s: 0,
    cpu_throttle_percentage: 0,
    dirty_sync_count: run.syncs,
    rounds: 0,
    ram: {
      transferred_bytes: 0,
      remaining_bytes: 0,
      total_bytes: job.vm.ram_bytes,
      duplicate_pages: 0,
      normal_pages: 0,
      normal_bytes: 0,
      dirty_pages_rate: measured / TARGET_PAGE_SIZE,
      dirty_sync_count: run.syncs,
      page_size_bytes: TARGET_PAGE_SIZE,
      mbps: 0,
    },
    dirty_log_stop: run.stoppedAtS === null ? 'never' : 'at-once',
    dirty_log_stopped_at_s: run.stoppedAtS,
    measured_dirty_rate_bytes_per_s: measured,
    probe_mode: job.probe.mode,
    postcopy_started_at_s: null,
    postcopy_page_requests: 0,
    strategy_in_effect: mmu.cfg.kernel.inEffect.strategy,
    host_cpu: c.hostCpu,
    guest_impact: c.guestImpact,
    mmu: c.mmu,
  };
}
