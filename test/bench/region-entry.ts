import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../../shared/src/cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../../shared/src/cluster/fleet/embedded-transport.js';
import { runRegion } from '../../shared/src/cluster/region/run-region.js';
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
  /** (region wall / region migrations) / (1k wall / 1k migrations), both measured here. */
  readonly per_migration_ratio_vs_1k: number;
  readonly one_k_scenario: string;
  readonly one_k_migrations: number;
  readonly one_k_wall_s: number;
  readonly digest: string;
  readonly loadavg_before: readonly number[];
  readonly loadavg_after: readonly number[];
}

/**
 * A region run embedded (`runRegion`, clusters one after another, each cluster's jobs.csv, summary.json and
 * report.html written to a temporary folder, no jobs.ndjson) against one cluster of `oneK` run the same way in the
 * same process first: the wall per migration of each, and their ratio.
 */
export async function regionEntry(file: string, oneK: string): Promise<RegionBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'migsim-bench-region-'));
  const loadBefore = loadavg();
  try {
    const small = loadScenario(oneK);
    let t0 = performance.now();
    const one = await runExperiment({ scenario: small, transport: new EmbeddedTransport(), outDir: join(dir, '1k'), ndjson: false });
    const oneWall = (performance.now() - t0) / 1e3;
    const full = loadScenario(file);
    // MIGSIM_BENCH_REGION_CLUSTERS=N runs the region's first N clusters only (a partial measurement, reported as such).
    const only = Number(process.env.MIGSIM_BENCH_REGION_CLUSTERS ?? 0);
    const region = only > 0 && typeof full.region?.clusters === 'number' ? { ...full, region: { clusters: Math.min(only, full.region.clusters) } } : full;
    t0 = performance.now();
    const r = await runRegion({ scenario: region, outDir: join(dir, 'region'), ndjson: false });
    const wall = (performance.now() - t0) / 1e3;
    const migrations = r.totals.migrations.total;
    return {
      scenario: file,
      clusters: r.clusters.length,
      clusters_in_scenario: typeof full.region?.clusters === 'number' ? full.region.clusters : (full.region?.clusters.length ?? 1),
      migrations,
      embedded_wall_s: wall,
      peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
      per_migration_ratio_vs_1k: wall / migrations / (oneWall / one.summary.migrations.total),
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
