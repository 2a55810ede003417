import { mkdirSync } from 'node:fs';
import { EmbeddedTransport } from '../fleet/embedded-transport.js';
import type { JobTransport } from '../fleet/job-transport.js';
import type { Progress } from '../fleet/progress.js';
import { runIdFor } from '../experiment/run-experiment.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';
import { ClusterThreads } from './cluster-threads.js';
import { clusterRunId, regionClusters } from './region-clusters.js';
import { REGION_DEFAULTS } from './region-defaults.js';
import { regionSummary, type RegionSummary } from './region-summary.js';
import { runCluster } from './run-cluster.js';
import { writeRegionOutputs } from './write-region-outputs.js';

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
