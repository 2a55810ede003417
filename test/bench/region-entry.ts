import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../../shared/src/cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../../shared/src/cluster/fleet/embedded-transport.js';
import { runRegion } from '../../shared/src/cluster/region/run-region.js';
import { REGION_DEFAULTS } from '../../shared/src/cluster/region/region-defaults.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';

export interface RegionBenchResult {
  readonly scenario: string;
  readonly clusters: number;
  /** The scenario's clusters (more than `clusters` when MIGSIM_BENCH_REGION_CLUSTERS ran a part of them). */
  readonly clusters_in_scenario: number;
  readonly migrations: number;
  readonly embedded_wall_s: number;
  /** Peak RSS of the bench process over both runs, bytes. */
  readonly peak_rss_bytes: number;
  /**
   * (region wall / region migrations) / (1k wall / 1k migrations), both measured here: the region's clusters run
   * `threads` at once (the default of `migsim run`), the 1k cluster alone in this thread.
   */
  readonly per_migration_ratio_vs_1k: number;
  /** The same ratio over CPU seconds (all threads of this process): what the cost per migration does with scale. */
  readonly per_migration_cpu_ratio_vs_1k: number;
  /** Cluster threads of the region run. */
  readonly threads: number;
  /** CPU seconds of the region run, all threads. */
  readonly embedded_cpu_s: number;
  readonly one_k_cpu_s: number;
  readonly one_k_scenario: string;
  readonly one_k_migrations: number;
  readonly one_k_wall_s: number;
  readonly digest: string;
  readonly loadavg_before: readonly number[];
  readonly loadavg_after: readonly number[];
}

/**
 * A region run embedded (`runRegion`, `threads` clusters at once, each cluster's jobs.csv, summary.json and
 * report.html written to a temporary folder, no jobs.ndjson) against one cluster of `oneK` run the same way in the
 * same process first: the wall per migration of each, and their ratio.
 */
export async function regionEntry(file: string, oneK: string): Promise<RegionBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'migsim-bench-region-'));
  const loadBefore = loadavg();
  try {
    const small = loadScenario(oneK);
    const cpuS = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
    let t0 = performance.now();
    let c0 = process.cpuUsage();
    const one = await runExperiment({ scenario: small, transport: new EmbeddedTransport(), outDir: join(dir, '1k'), ndjson: false });
    const oneWall = (performance.now() - t0) / 1e3;
    const oneCpu = cpuS(process.cpuUsage(c0));
    const full = loadScenario(file);
    // MIGSIM_BENCH_REGION_CLUSTERS=N runs the region's first N clusters only (a partial measurement, reported as such).
    const only = Number(process.env.MIGSIM_BENCH_REGION_CLUSTERS ?? 0);
    const region = only > 0 && typeof full.region?.clusters === 'number' ? { ...full, region: { clusters: Math.min(only, full.region.clusters) } } : full;
    // MIGSIM_BENCH_REGION_THREADS=N runs N clusters at once (default: one per core, as `migsim run` does).
    const threadsEnv = process.env.MIGSIM_BENCH_REGION_THREADS;
    const threads = threadsEnv === undefined ? Math.min(REGION_DEFAULTS.threads(), region.region?.clusters === undefined ? 1 : typeof region.region.clusters === 'number' ? region.region.clusters : region.region.clusters.length) : Number(threadsEnv);
    t0 = performance.now();
    c0 = process.cpuUsage();
    const r = await runRegion({ scenario: region, outDir: join(dir, 'region'), ndjson: false, threads });
    const wall = (performance.now() - t0) / 1e3;
    const cpu = cpuS(process.cpuUsage(c0));
    const migrations = r.totals.migrations.total;
    return {
      scenario: file,
      clusters: r.clusters.length,
      clusters_in_scenario: typeof full.region?.clusters === 'number' ? full.region.clusters : (full.region?.clusters.length ?? 1),
      migrations,
      embedded_wall_s: wall,
      peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
      per_migration_ratio_vs_1k: wall / migrations / (oneWall / one.summary.migrations.total),
      per_migration_cpu_ratio_vs_1k: cpu / migrations / (oneCpu / one.summary.migrations.total),
      threads,
      embedded_cpu_s: cpu,
      one_k_cpu_s: oneCpu,
      one_k_scenario: oneK,
      one_k_migrations: one.summary.migrations.total,
      one_k_wall_s: oneWall,
      digest: r.digest,
      loadavg_before: loadBefore,
      loadavg_after: loadavg(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
