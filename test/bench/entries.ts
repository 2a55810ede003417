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

/** A full dirty_log_perf_test cycle with all four strategies, timed against the popcount baseline of the same memory. */
function dirtyLogPerfEntry(args: string, reps: number): BenchResult {
  const params = parseDirtyLogPerfArgs(args.split(' '));
  const guestBytes = params.vcpus * params.vcpuMemoryBytes;
  let best = Infinity;
  let run;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run = runDirtyLogPerf(params);
    best = Math.min(best, (performance.now() - t0) / 1e3);
  }
  const baseline = popcountBaseline(guestBytes);
  return {
    command: `migsim dirty-log-perf ${args}`,
    wall_s: best,
    baseline_s: baseline,
    ratio: best / baseline,
    state_bits_per_4k: (run!.peakStateBytes * 8) / (guestBytes / 4096),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    simulated_disable_s: Object.fromEntries(run!.strategies.map((s) => [s.strategy, s.disable.ns / 1e9])),
  };
}

/** Benchmark entries by name. Each runs in its own process so that peak RSS is its own. */
export const ENTRIES: Record<string, () => BenchResult> = {
  mmu_1tib: () => dirtyLogPerfEntry('-v 256 -b 4G -s anonymous_hugetlb_2mb -e', 3),
  seed_96vcpu: () => dirtyLogPerfEntry('-v 96 -b 1G -s anonymous_hugetlb_1gb', 3),
};
