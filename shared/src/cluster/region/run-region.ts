import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedTransport } from '../fleet/embedded-transport.js';
import type { JobTransport } from '../fleet/job-transport.js';
import type { Progress } from '../fleet/progress.js';
import { runExperiment, runIdFor } from '../experiment/run-experiment.js';
import { QUANTILE_RELATIVE_ACCURACY, SummaryAccumulator, type RunSummary } from '../report/run-summary.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';
import { ClusterThreads } from './cluster-threads.js';
import { clusterRunId, regionClusters } from './region-clusters.js';
import { REGION_DEFAULTS } from './region-defaults.js';
import { regionReportHtml } from './region-report.js';

export interface ClusterRunOptions {
  /** The cluster's own scenario (from `regionClusters`). */
  readonly scenario: Scenario;
  readonly name: string;
  readonly runId: string;
  readonly transport: JobTransport;
  /** The region's output folder: the cluster writes under `outDir/<name>/`. */
  readonly outDir: string;
  readonly onProgress?: (p: Progress) => void;
  /** Also write the cluster's `jobs.ndjson` (default true). */
  readonly ndjson?: boolean;
}

/**
 * Runs one cluster of a region: its records are streamed to `outDir/<name>/` (`jobs.csv`, `jobs.ndjson`,
 * `summary.json`, `report.html`, as `migsim run` writes them), and only its summary, digest and quantile sketches
 * come back; nothing of the cluster is held after it returns.
 */
export async function runCluster(o: ClusterRunOptions): Promise<ClusterRunResult> {
  const { summary, accumulator } = await runExperiment({
    scenario: o.scenario,
    transport: o.transport,
    runId: o.runId,
    outDir: join(o.outDir, o.name),
    ...(o.ndjson === undefined ? {} : { ndjson: o.ndjson }),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  return {
    name: o.name,
    summary,
    digest: summary.digest,
    migrations: summary.migrations.total,
    sketches: { migration_time_s: accumulator.times.toJSON(), downtime_s: accumulator.downtimes.toJSON() },
  };
}

/** How far a region run has come. */
export interface RegionProgress {
  readonly clustersDone: number;
  readonly clustersTotal: number;
  /** Migrations and probes done, over the finished clusters and those running. */
  readonly jobsDone: number;
  /** Migrations of the finished clusters. */
  readonly migrationsDone: number;
  /** Simulated time summed over the clusters (finished ones count their end). */
  readonly simulatedS: number;
  /** 0..1, by clusters done and the waves (or simulated time) of those running. */
  readonly fraction: number;
  /** Wall seconds left at the pace so far; null before there is a pace. */
  readonly etaS: number | null;
}

export interface RegionRunOptions {
  /** The region's scenario (with or without `region`: without, one cluster `c0`). */
  readonly scenario: Scenario;
  readonly outDir: string;
  readonly runId?: string;
  /**
   * Clusters run at once, each on a thread of its own with the embedded transport (`ClusterThreads`); 0 runs them in
   * this process one after another, each freed before the next (as with `transportFor`).
   * @defaultValue REGION_DEFAULTS.threads() (one per core), at most the region's clusters
   */
  readonly threads?: number;
  /**
   * A transport per cluster; the clusters then run in this process, one after another (`threads` does not apply: a
   * transport cannot go to a thread). @defaultValue embedded, on threads
   */
  readonly transportFor?: (cluster: string) => JobTransport;
  readonly ndjson?: boolean;
  readonly onProgress?: (p: RegionProgress) => void;
}

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

/**
 * Runs a region: each cluster of `regionClusters(scenario)` through {@link runCluster} (`threads` at once, each on a
 * thread of its own; in this process one after another with `threads: 0` or a `transportFor`), then writes the region's outputs in `outDir`: `region-summary.json`, `clusters.csv`
 * (the index of the clusters' folders and their `jobs.csv`) and `report.html`.
 */
export async function runRegion(o: RegionRunOptions): Promise<RegionSummary> {
  const t0 = performance.now();
  mkdirSync(o.outDir, { recursive: true });
  const clusters = regionClusters(o.scenario);
  const runId = o.runId ?? runIdFor(o.scenario);
  const threadsWanted = o.transportFor ? 0 : (o.threads ?? REGION_DEFAULTS.threads());
  if (!Number.isInteger(threadsWanted) || threadsWanted < 0) throw new RangeError(`threads must be an integer ≥ 0 (got ${threadsWanted})`);
  const threads = threadsWanted === 0 ? undefined : new ClusterThreads();
  const concurrency = Math.max(1, Math.min(clusters.length, threadsWanted));
  const results: (ClusterRunResult | undefined)[] = new Array(clusters.length);
  const running = new Map<number, Progress>();
  let done = 0;
  let jobsDoneFinished = 0;
  let migrationsDone = 0;
  let simulatedFinished = 0;
  const report = (): void => {
    if (!o.onProgress) return;
    let jobs = jobsDoneFinished;
    let sim = simulatedFinished;
    let partial = 0;
    for (const [i, p] of running) {
      jobs += p.jobsDone;
      sim += p.simulatedS;
      partial += p.wavesTotal > 0 ? p.wavesDone / p.wavesTotal : Math.min(1, p.simulatedS / clusters[i]!.scenario.horizon);
    }
    const fraction = Math.min(1, (done + partial) / clusters.length);
    const elapsed = (performance.now() - t0) / 1e3;
    o.onProgress({ clustersDone: done, clustersTotal: clusters.length, jobsDone: jobs, migrationsDone, simulatedS: sim, fraction, etaS: fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null });
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < clusters.length) {
      const i = next++;
      const c = clusters[i]!;
      const onProgress = (p: Progress): void => {
        running.set(i, p);
        report();
      };
      const common = { scenario: c.scenario, name: c.name, runId: clusterRunId(runId, c.name), outDir: o.outDir, ...(o.ndjson === undefined ? {} : { ndjson: o.ndjson }) };
      const r = threads
        ? await threads.run({ ...common, progressIntervalMs: REGION_DEFAULTS.progressIntervalMs }, onProgress)
        : await runCluster({ ...common, transport: o.transportFor ? o.transportFor(c.name) : new EmbeddedTransport(), onProgress });
      running.delete(i);
      results[i] = r;
      done++;
      jobsDoneFinished += r.summary.jobs;
      migrationsDone += r.migrations;
      simulatedFinished += r.summary.simulated_end_s;
      report();
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    await threads?.close();
  }
  const finished = results as ClusterRunResult[];
  const summary = regionSummary(o.scenario, runId, finished, clusters.map((c) => c.scenario.seed), (performance.now() - t0) / 1e3);
  writeRegionOutputs(o.outDir, summary);
  return summary;
}

/** Writes a region's own outputs into `outDir`: `region-summary.json`, `clusters.csv` and `report.html`. */
export function writeRegionOutputs(outDir: string, summary: RegionSummary): void {
  writeFileSync(join(outDir, 'region-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(outDir, 'clusters.csv'), clustersCsv(summary));
  writeFileSync(join(outDir, 'report.html'), regionReportHtml(summary));
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
