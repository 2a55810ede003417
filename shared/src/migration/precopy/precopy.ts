import { AggregateMmu, CLEAR_CHUNK_PAGES } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { Environment } from '../../engine/environment.js';
import { Interrupt } from '../../engine/errors/interrupt.js';
import { totalWriteRate, type PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import { pageClasses } from '../workload/page-classes.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import { mmuBlocks } from '../job/mmu-blocks.js';
import { MIGRATION_OVERHEADS, QEMU_DEFAULTS, WIRE } from './qemu-defaults.js';

type Cause = { readonly status: 'cancelled' | 'failed'; readonly reason: string };

/** A pass is simulated in at most this many steps of whole 1 GiB chunks (CLEAR, then send). */
const STEPS_PER_PASS = 16;

/** The VM and its MMU model for one job. */
export function aggregateFor(job: MigrationJob, profile: CostProfile): { mmu: AggregateMmu; classes: PageClass[]; pages: number } {
  const pages = job.vm.ram_bytes / 4096;
  const classes = pageClasses(job.vm.workload, pages, job.vm.vcpus);
  const mmu = new AggregateMmu({
    pages,
    vcpus: job.vm.vcpus,
    backing: job.vm.backing,
    thpCoverage: job.vm.thp_coverage,
    manualProtect: job.kernel.manual_protect,
    eagerPageSplit: job.kernel.eager_split,
    pml: job.kernel.pml,
    fastPageFault: job.kernel.fast_page_fault,
    profile,
    bailouts: job.bailouts,
    classes,
  });
  return { mmu, classes, pages };
}

/** vCPUs in guest mode while the VM runs: an idle guest's vCPUs are halted. */
export function runningVcpus(job: MigrationJob, classes: readonly PageClass[]): number {
  return totalWriteRate(classes) > 0 || classes.some((c) => c.readRate > 0) ? job.vm.vcpus : 0;
}

/** What a pass ended with, for observers (tests, progress, reports). */
export interface PassReport {
  readonly pass: number;
  readonly endS: number;
  readonly durationS: number;
  readonly sentBytes: number;
  readonly dirtyPages: number;
  readonly throttlePct: number;
}

/**
 * A QEMU precopy live migration of one VM on the discrete-event engine: setup (enable dirty logging with
 * initially-set, first bitmap sync), passes that CLEAR each 1 GiB chunk just before sending it and send dirty
 * pages at the migration bandwidth, a bitmap sync after each pass with QEMU's convergence test (remaining bytes ≤
 * bandwidth × downtime-limit) and auto-converge / dirty-limit triggers, then stop-and-copy. Cancel, destination
 * failure and the completion timeout interrupt it; dirty logging is then turned off as QEMU does.
 */
export function runPrecopy(job: MigrationJob, profile: CostProfile, onPass?: (p: PassReport) => void): MigrationResult {
  const { mmu, classes, pages } = aggregateFor(job, profile);
  const m = job.migration;
  const bw = Math.min(m.max_bandwidth_bytes_per_s, m.link_bandwidth_bytes_per_s ?? Infinity);
  const vmRunning = runningVcpus(job, classes);
  const writeBytesPerS = totalWriteRate(classes) * 4096;
  const env = new Environment();

  let phase: 'setup' | 'active' | 'stop-copy' | 'done' = 'setup';
  let status: MigrationResult['status'] = 'active';
  let errorDesc: string | null = null;
  let setupTimeS = 0;
  let downtimeS: number | null = null;
  let expectedDowntimeS = 0;
  let throttle = 0;
  let highSyncs = 0;
  let dirtyLimitOn = false;
  let syncs = 0;
  let rounds = 0;
  let transferred = 0;
  let normalPages = 0;
  let duplicatePages = 0;
  let remainingPages = pages;
  let dirtyPagesRate = 0;
  let enableNs = 0;
  let stopRule: MigrationResult['dirty_log_stop'] = 'never';
  let stoppedAtS: number | null = null;

  const scale = (): number => {
    let k = 1 - throttle / 100;
    if (dirtyLimitOn && m.dirty_limit_bytes_per_s !== null && writeBytesPerS > 0) {
      k = Math.min(k, (job.vm.vcpus * m.dirty_limit_bytes_per_s) / writeBytesPerS);
    }
    return k;
  };
  const ioctlTime = (fn: () => void): number => {
    const before = mmu.ioctl.ns;
    fn();
    return (mmu.ioctl.ns - before) / 1e9;
  };

  const proc = env.process(function* migrate() {
    try {
      enableNs = ioctlTime(() => mmu.enable(vmRunning)) * 1e9;
      const getS = ioctlTime(() => mmu.getDirtyLog());
      syncs++;
      setupTimeS = enableNs / 1e9 + getS + MIGRATION_OVERHEADS.setupS;
      yield env.timeout(setupTimeS);
      phase = 'active';
      // Initially set: every page is dirty for the first pass; zero pages go as markers.
      let dirty = classes.map((c) => c.pages);
      let first = true;
      let roundS = 0;
      for (;;) {
        const zero = first ? pages * job.vm.zero_fraction : 0;
        const normal = (first ? pages : sum(dirty)) - zero;
        const bytes = normal * WIRE.normalPageBytes + zero * WIRE.zeroPageBytes;
        const words = first ? classes.map((c) => c.pages / 64) : wordsDirty(classes, dirty);
        const chunks = first ? Math.ceil(pages / CLEAR_CHUNK_PAGES) : chunksDirty(classes, dirty);
        // The pass goes through guest memory chunk by chunk: each 1 GiB chunk's CLEAR just before its pages are
        // sent. Steps group chunks (at most STEPS per pass), so an interrupt stops the pass where it is.
        const steps = Math.max(1, Math.min(STEPS_PER_PASS, Math.ceil(chunks)));
        const started = env.now;
        let stepsDone = 0;
        try {
          for (let i = 0; i < steps; i++) {
            const f = 1 / steps;
            const clearS = ioctlTime(() =>
              mmu.clearDirtyLog(
                dirty.map((d) => d * f),
                words.map((w) => w * f),
                chunks * f,
                vmRunning,
                f,
                first,
              ),
            );
            yield env.timeout((bytes * f) / bw + clearS);
            stepsDone++;
          }
        } finally {
          // Account what was sent and dirtied, also when the pass is interrupted.
          const done = stepsDone / steps;
          transferred += bytes * done;
          normalPages += normal * done;
          duplicatePages += zero * done;
          const elapsed = env.now - started;
          const k = scale();
          const written = classes.map((c) => c.pages * -Math.expm1(-c.writeRate * k * elapsed));
          mmu.guestWrites(written, elapsed);
          if (stepsDone < steps) remainingPages = sum(dirty) * (1 - done) + sum(written);
          else dirty = written;
          roundS = elapsed;
        }
        rounds++;
        first = false;
        yield env.timeout(ioctlTime(() => mmu.getDirtyLog()));
        syncs++;
        const dirtyPages = sum(dirty);
        remainingPages = dirtyPages;
        dirtyPagesRate = roundS > 0 ? dirtyPages / roundS : 0;
        expectedDowntimeS = (dirtyPages * 4096) / bw;
        if (m.auto_converge || m.dirty_limit_bytes_per_s !== null) {
          // migration_trigger_throttle: dirtied bytes above the threshold share of sent bytes, twice in a row.
          if (dirtyPages * 4096 > (bytes * QEMU_DEFAULTS.throttleTriggerThresholdPct) / 100) {
            if (++highSyncs >= QEMU_DEFAULTS.throttleTriggerSyncs) {
              highSyncs = 0;
              if (m.dirty_limit_bytes_per_s !== null) dirtyLimitOn = true;
              if (m.auto_converge) {
                throttle = throttle === 0 ? QEMU_DEFAULTS.cpuThrottleInitialPct : Math.min(QEMU_DEFAULTS.maxCpuThrottlePct, throttle + QEMU_DEFAULTS.cpuThrottleIncrementPct);
              }
            }
          }
        }
        onPass?.({ pass: rounds, endS: env.now, durationS: roundS, sentBytes: bytes, dirtyPages, throttlePct: throttle });
        if (dirtyPages * 4096 <= bw * m.downtime_limit_s) break;
        if (rounds >= MIGRATION_OVERHEADS.maxRounds || env.now >= m.horizon_s) {
          status = 'active';
          phase = 'done';
          return;
        }
      }
      // Stop-and-copy: the VM is paused; the last sync, the rest of RAM and the device state.
      phase = 'stop-copy';
      const lastGetS = ioctlTime(() => mmu.getDirtyLog());
      syncs++;
      const rest = remainingPages;
      downtimeS = (rest * WIRE.normalPageBytes) / bw + lastGetS + MIGRATION_OVERHEADS.switchoverS;
      yield env.timeout(downtimeS);
      transferred += rest * WIRE.normalPageBytes;
      normalPages += rest;
      remainingPages = 0;
      status = 'completed';
      phase = 'done';
      // The stop of dirty logging is postponed until the source VM runs again, which it never does.
      stopRule = 'never';
    } catch (e) {
      if (!(e instanceof Interrupt)) throw e;
      const cause = e.cause as Cause;
      status = cause.status;
      errorDesc = cause.reason;
      if (phase === 'stop-copy') {
        downtimeS = null;
        stopRule = 'at-restart';
      } else stopRule = 'at-once';
      stoppedAtS = env.now;
      phase = 'done';
    }
  });

  const interruptAt = (t: number | null, cause: Cause) => {
    if (t === null) return;
    env.callAt(t, () => {
      if (proc.isAlive && phase !== 'done') proc.interrupt(cause);
    });
  };
  interruptAt(m.cancel_at_s, { status: 'cancelled', reason: 'migrate_cancel' });
  interruptAt(m.fail_at_s, { status: 'failed', reason: 'destination failed' });
  interruptAt(m.timeout_s, { status: 'cancelled', reason: 'completion timeout: aborted' });
  env.run(proc);

  const totalTimeS = env.now;
  // After a cancel the throttle is lifted; after a restart the VM runs again: vCPUs are in guest mode.
  const disable = stopRule === 'never' ? null : { running: vmRunning, rateScale: 1 };
  return {
    job: 'migration',
    model: 'migsim',
    status,
    error_desc: errorDesc,
    total_time_s: totalTimeS,
    setup_time_s: setupTimeS,
    downtime_s: downtimeS,
    expected_downtime_s: expectedDowntimeS,
    cpu_throttle_percentage: throttle,
    dirty_sync_count: syncs,
    rounds,
    ram: {
      transferred_bytes: Math.round(transferred),
      remaining_bytes: Math.round(remainingPages * 4096),
      total_bytes: job.vm.ram_bytes,
      duplicate_pages: Math.round(duplicatePages),
      normal_pages: Math.round(normalPages),
      normal_bytes: Math.round(normalPages * 4096),
      dirty_pages_rate: dirtyPagesRate,
      dirty_sync_count: syncs,
      page_size_bytes: 4096,
      mbps: totalTimeS > 0 ? (transferred * 8) / 1e6 / totalTimeS : 0,
    },
    dirty_log_stop: stopRule,
    dirty_log_stopped_at_s: stoppedAtS,
    measured_dirty_rate_bytes_per_s: null,
    strategy_in_effect: job.kernel.strategy,
    mmu: mmuBlocks(mmu, enableNs, disable),
  };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** 64-page words holding the dirty pages: the pages of a class are dirty independently with the same probability. */
function wordsDirty(classes: readonly PageClass[], dirty: readonly number[]): number[] {
  return classes.map((c, i) => {
    const p = Math.min(1, (dirty[i] ?? 0) / c.pages);
    return (c.pages / 64) * (1 - Math.pow(1 - p, 64));
  });
}

/** 1 GiB chunks that hold at least one dirty page (one CLEAR each). */
function chunksDirty(classes: readonly PageClass[], dirty: readonly number[]): number {
  let n = 0;
  classes.forEach((c, i) => {
    const p = Math.min(1, (dirty[i] ?? 0) / c.pages);
    const chunkPages = Math.min(CLEAR_CHUNK_PAGES, c.pages);
    n += (c.pages / chunkPages) * (1 - Math.pow(1 - p, chunkPages));
  });
  return n;
}

