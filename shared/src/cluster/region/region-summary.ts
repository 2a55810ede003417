import { createHash } from 'node:crypto';
import { QUANTILE_RELATIVE_ACCURACY, SummaryAccumulator, type RunSummary } from '../report/run-summary.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';

/** One cluster's row of `region-summary.json`. */
export interface RegionClusterRow {
  readonly name: string;
  readonly seed: number;
  /** Its folder under the region's output folder. */
  readonly dir: string;
  readonly run_id: string;
  readonly makespan_s: number | null;
  readonly simulated_end_s: number;
  readonly migrations: RunSummary['migrations'];
  readonly jobs: number;
  readonly digest: string;
  readonly wall_s: number;
}

export interface RegionSummary {
  readonly scenario: string;
  readonly seed: number;
  readonly run_id: string;
  readonly clusters: readonly RegionClusterRow[];
  /**
   * The region's totals: counts and costs summed over the clusters, percentiles from their merged sketches (within
   * `quantile_relative_accuracy`), `makespan_s` and `simulated_end_s` the largest of the clusters' (they run side by
   * side), `waves` empty, `host_cpu_ledger` and `network` null (see each cluster's summary), `digest` the region's.
   */
  readonly totals: RunSummary;
  readonly quantile_relative_accuracy: number;
  /** sha256 of the clusters' digests, in cluster order (hex digests joined by newlines). */
  readonly digest: string;
  readonly wall_s: number;
}

/** The region's digest: sha256 over its clusters' digests in cluster order. */
export function regionDigest(clusterDigests: readonly string[]): string {
  return createHash('sha256').update(clusterDigests.join('\n')).digest('hex');
}

/** The region's summary from its clusters' results (in cluster order). */
export function regionSummary(scenario: Scenario, runId: string, results: readonly ClusterRunResult[], seeds: readonly number[], wallS: number): RegionSummary {
  const acc = new SummaryAccumulator();
  for (const r of results) acc.merge(SummaryAccumulator.fromSummary(r.summary, r.sketches));
  const digest = regionDigest(results.map((r) => r.digest));
  const makespans = results.map((r) => r.summary.makespan_s).filter((m): m is number => m !== null);
  const totals = acc.finish(
    {
      scenario: scenario.name,
      seed: scenario.seed,
      runId,
      run: { waves: [], makespanS: makespans.length > 0 ? Math.max(...makespans) : null, endS: Math.max(0, ...results.map((r) => r.summary.simulated_end_s)), network: null },
      wallS,
    },
    digest,
  );
  return {
    scenario: scenario.name,
    seed: scenario.seed,
    run_id: runId,
    clusters: results.map((r, i) => ({
      name: r.name,
      seed: seeds[i]!,
      dir: r.name,
      run_id: r.summary.run_id,
      makespan_s: r.summary.makespan_s,
      simulated_end_s: r.summary.simulated_end_s,
      migrations: r.summary.migrations,
      jobs: r.summary.jobs,
      digest: r.digest,
      wall_s: r.summary.wall_s,
    })),
    totals,
    quantile_relative_accuracy: QUANTILE_RELATIVE_ACCURACY,
    digest,
    wall_s: wallS,
  };
}

/** `clusters.csv`: one row per cluster, where its records are (`<dir>/jobs.csv`, `<dir>/jobs.ndjson`) and its figures. */
export function clustersCsv(s: RegionSummary): string {
  const header = 'cluster,seed,jobs_csv,jobs,migrations,completed,cancelled,failed,active,makespan_s,simulated_end_s,digest';
  const rows = s.clusters.map((c) =>
    [c.name, c.seed, `${c.dir}/jobs.csv`, c.jobs, c.migrations.total, c.migrations.completed, c.migrations.cancelled, c.migrations.failed, c.migrations.active, c.makespan_s ?? '', c.simulated_end_s, c.digest].join(','),
  );
  return `${header}\n${rows.join('\n')}\n`;
}
