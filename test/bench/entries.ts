import { parseDirtyLogPerfArgs } from '../../shared/src/cli/dirty-log-perf-command.js';
import { runDirtyLogPerf } from '../../shared/src/selftest/dirty-log-perf.js';
import { popcountBaseline } from './popcount-baseline.js';

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
 * A full dirty_log_perf_test cycle with all four strategies, timed against the popcount baseline of the same
 * memory. The machine is noisy, so model runs and baseline passes alternate (`reps` pairs) and the pair with the
 * median ratio is reported.
 */
function dirtyLogPerfEntry(args: string, reps: number): BenchResult {
  const params = parseDirtyLogPerfArgs(args.split(' '));
  const guestBytes = params.vcpus * params.vcpuMemoryBytes;
  const pairs: { wall: number; baseline: number }[] = [];
  let run;
  for (let i = 0; i < reps; i++) {
    const baseline = popcountBaseline(guestBytes, 3);
    const t0 = performance.now();
    run = runDirtyLogPerf(params);
    pairs.push({ wall: (performance.now() - t0) / 1e3, baseline });
  }
  pairs.sort((a, b) => a.wall / a.baseline - b.wall / b.baseline);
  const median = pairs[Math.floor(pairs.length / 2)]!;
  return {
    command: `migsim dirty-log-perf ${args}`,
    wall_s: median.wall,
    baseline_s: median.baseline,
    ratio: median.wall / median.baseline,
    state_bits_per_4k: (run!.peakStateBytes * 8) / (guestBytes / 4096),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    simulated_disable_s: Object.fromEntries(run!.strategies.map((s) => [s.strategy, s.disable.ns / 1e9])),
  };
}

/** Benchmark entries by name. Each runs in its own process so that peak RSS is its own. */
export const ENTRIES: Record<string, () => BenchResult> = {
  mmu_1tib: () => dirtyLogPerfEntry('-v 256 -b 4G -s anonymous_hugetlb_2mb -e', 7),
  seed_96vcpu: () => dirtyLogPerfEntry('-v 96 -b 1G -s anonymous_hugetlb_1gb', 7),
};
