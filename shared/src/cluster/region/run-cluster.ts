import { join } from 'node:path';
import type { JobTransport } from '../fleet/job-transport.js';
import type { Progress } from '../fleet/progress.js';
import { runExperiment } from '../experiment/run-experiment.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';

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
