import { CLEAR_CHUNK_PAGES } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { Environment } from '../../engine/environment.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import { mmuBlocks } from '../job/mmu-blocks.js';
import { aggregateFor } from '../precopy/aggregate-for.js';
import { MIGRATION_OVERHEADS } from '../precopy/qemu-defaults.js';
import { runningVcpus } from '../precopy/running-vcpus.js';

/**
 * QEMU `calc-dirty-rate` in dirty-bitmap mode on a running VM: start dirty logging, sync and re-protect
 * everything (CLEAR of the whole bitmap: with initially-set and eager split, every huge page is split), wait
 * `calc-time`, sync again, measure, and stop logging: a full enable + disable cycle on a live VM.
 */
export function runDirtyRateProbe(job: MigrationJob, profile: CostProfile): MigrationResult {
  const { mmu, classes, pages } = aggregateFor(job, profile);
  const running = runningVcpus(job);
  const env = new Environment();
  let enableNs = 0;
  let setupS = 0;
  let syncs = 0;
  let measured = 0;
  const proc = env.process(function* probe() {
    const t0 = mmu.ioctl.ns;
    mmu.enable(running);
    enableNs = mmu.ioctl.ns - t0;
    mmu.getDirtyLog();
    syncs++;
    mmu.clearDirtyLog(
      classes.map((c) => c.pages),
      classes.map((c) => c.pages / 64),
      Math.ceil(pages / CLEAR_CHUNK_PAGES),
      running,
    );
    setupS = mmu.ioctl.ns / 1e9 + MIGRATION_OVERHEADS.setupS;
    yield env.timeout(setupS);
    const period = job.probe.calc_time_s;
    yield env.timeout(period);
    const written = classes.map((c) => c.pages * -Math.expm1(-c.writeRate * period));
    mmu.guestWrites(written, period);
    const g0 = mmu.ioctl.ns;
    mmu.getDirtyLog();
    syncs++;
    measured = (written.reduce((a, b) => a + b, 0) * 4096) / period;
    yield env.timeout((mmu.ioctl.ns - g0) / 1e9);
  });
  env.run(proc);
  return {
    job: 'dirty-rate-probe',
    model: 'migsim',
    status: 'completed',
    error_desc: null,
    total_time_s: env.now,
    setup_time_s: setupS,
    downtime_s: null,
    expected_downtime_s: 0,
    cpu_throttle_percentage: 0,
    dirty_sync_count: syncs,
    rounds: 0,
    ram: {
      transferred_bytes: 0,
      remaining_bytes: 0,
      total_bytes: job.vm.ram_bytes,
      duplicate_pages: 0,
      normal_pages: 0,
      normal_bytes: 0,
      dirty_pages_rate: measured / 4096,
      dirty_sync_count: syncs,
      page_size_bytes: 4096,
      mbps: 0,
    },
    dirty_log_stop: 'at-once',
    dirty_log_stopped_at_s: env.now,
    measured_dirty_rate_bytes_per_s: measured,
    strategy_in_effect: job.kernel.strategy,
    mmu: mmuBlocks(mmu, enableNs, { running, rateScale: 1 }),
  };
}
