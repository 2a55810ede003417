import { parseDirtyLogPerfArgs } from '../../shared/src/cli/dirty-log-perf-command.js';
import { migrationJobSchema } from '../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../shared/src/migration/job/run-migration-job.js';
import { DEFAULT_PROFILE } from '../../shared/src/kernel/mmu/default-profile.js';
import { runDirtyLogPerf } from '../../shared/src/kernel/selftest/dirty-log-perf.js';
import { fleetEntry, type FleetBenchResult } from './fleet-entry.js';
import { popcountBaseline } from './popcount-baseline.js';
import { regionDistributedEntry, type RegionDistributedResult } from './region-distributed-entry.js';
import { regionEntry, type RegionBenchResult } from './region-entry.js';

export interface BenchResult {
  readonly command: string;
  readonly wall_s: number;
  readonly baseline_s: number;
  readonly ratio: number;
  readonly state_bits_per_4k: number;
  readonly peak_rss_bytes: number;
  readonly simulated_disable_s: Record<string, number>;
}

/**
 * Times `run` against `baseline` (both in seconds): the machine is noisy, so they alternate for `reps` pairs and the
 * pair with the median ratio is returned, with the last run's result.
 */
function medianPair<T>(reps: number, baseline: () => number, run: () => T): { wall: number; baseline: number; result: T } {
  const pairs: { wall: number; baseline: number }[] = [];
  let result: T | undefined;
  for (let i = 0; i < reps; i++) {
    const b = baseline();
    const t0 = performance.now();
    result = run();
    pairs.push({ wall: (performance.now() - t0) / 1e3, baseline: b });
  }
  pairs.sort((a, b) => a.wall / a.baseline - b.wall / b.baseline);
  return { ...pairs[Math.floor(pairs.length / 2)]!, result: result! };
}

/**
 * A full dirty_log_perf_test cycle with all four strategies, timed against the popcount baseline of the same
 * memory. The machine is noisy, so model runs and baseline passes alternate (`reps` pairs) and the pair with the
 * median ratio is reported.
 */
function dirtyLogPerfEntry(args: string, reps: number): BenchResult {
  const params = parseDirtyLogPerfArgs(args.split(' '));
  const guestBytes = params.vcpus * params.vcpuMemoryBytes;
  const { result: run, ...median } = medianPair(reps, () => popcountBaseline(guestBytes, 3), () => runDirtyLogPerf(params));
  return {
    command: `migsim dirty-log-perf ${args}`,
    wall_s: median.wall,
    baseline_s: median.baseline,
    ratio: median.wall / median.baseline,
    state_bits_per_4k: (run.peakStateBytes * 8) / (guestBytes / 4096),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    simulated_disable_s: Object.fromEntries(run.strategies.map((s) => [s.strategy, s.disable.ns / 1e9])),
  };
}

export interface MigrationBenchResult {
  readonly job: string;
  readonly wall_ms: number;
  readonly baseline_ms: number;
  readonly ratio: number;
  readonly rounds: number;
  readonly simulated_total_s: number;
}

/**
 * One whole migration job (hotcold workload, about ten passes, all four disable strategies' MMU blocks) against
 * the popcount pass over a bitmap of the same memory. Median of `reps` alternating pairs.
 */
function migrationEntry(ramGiB: number, dirtyRateMiB: number, reps: number): MigrationBenchResult {
  const job = migrationJobSchema.parse({
    vm: { ram_bytes: ramGiB * 2 ** 30, vcpus: ramGiB / 4, workload: { kind: 'hotcold', dirty_rate_bytes_per_s: dirtyRateMiB * 2 ** 20 } },
    migration: { max_bandwidth_bytes_per_s: 1.25e9 },
  });
  const { result, ...median } = medianPair(reps, () => popcountBaseline(ramGiB * 2 ** 30, 1), () => runMigrationJob(job, DEFAULT_PROFILE));
  return {
    job: `migrate --ram ${ramGiB}GiB --vcpus ${ramGiB / 4} --workload hotcold --dirty-rate ${dirtyRateMiB}MiB/s --max-bandwidth 10Gbit/s`,
    wall_ms: median.wall * 1e3,
    baseline_ms: median.baseline * 1e3,
    ratio: median.wall / median.baseline,
    rounds: result.rounds,
    simulated_total_s: result.total_time_s,
  };
}

/** Benchmark entries by name. Each runs in its own process so that peak RSS is its own. */
export const ENTRIES: Record<string, () => BenchResult | MigrationBenchResult | Promise<FleetBenchResult> | Promise<RegionDistributedResult> | Promise<RegionBenchResult>> = {
  mmu_1tib: () => dirtyLogPerfEntry('-v 256 -b 4G -s anonymous_hugetlb_2mb -e', 7),
  seed_96vcpu: () => dirtyLogPerfEntry('-v 96 -b 1G -s anonymous_hugetlb_1gb', 7),
  migration_64gib: () => migrationEntry(64, 900, 101),
  migration_256gib: () => migrationEntry(256, 700, 101),
  fleet_1000x24: () => fleetEntry('scenarios/rolling-upgrade-1000.yaml'),
  region_100k: () => regionEntry('scenarios/region-100k.yaml', 'scenarios/rolling-upgrade-1000.yaml'),
  // Clusters of 1,000 hosts (the unit; region_100k's are 2,000): at 200 hosts a cluster runs in about a
  // second, mostly V8 compiling the code in each worker isolate (docs/scaling.md has both sizes).
  region_distributed: () => regionDistributedEntry(4, Number(process.env.MIGSIM_BENCH_REGION_HOSTS ?? 1000)),
};
