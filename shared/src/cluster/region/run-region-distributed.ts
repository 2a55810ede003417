import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { runIdFor } from '../experiment/run-experiment.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { REDIS_CONNECT_TIMEOUT_MS } from '../queue/queue-defaults.js';
import { progressKey } from '../queue/queue-names.js';
import { connectOrThrow, createRedis, type RedisClient } from '../queue/redis-connection.js';
import { clusterRunId, regionClusters } from './region-clusters.js';
import { REGION_DEFAULTS } from './region-defaults.js';
import { runRegionFlow } from './region-flow.js';
import { regionSummary, type RegionSummary } from './region-summary.js';
import { writeRegionOutputs } from './write-region-outputs.js';
import type { RegionProgress } from './run-region.js';

/** A cluster coordinator's progress as it writes it to Redis (`coordinator-jobs-thread.ts`); unknown keys ignored. */
const clusterProgressSchema = z.object({
  jobsDone: z.number().optional(),
  simulatedS: z.number().optional(),
  wavesDone: z.number().optional(),
  wavesTotal: z.number().optional(),
  done: z.boolean().optional(),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface RegionDistributedOptions {
  /** The region's scenario (validated: clusters that `set` values need `parseScenario`'s resolution). */
  readonly scenario: Scenario;
  /** The region's output folder: made absolute, it must be the same path for every process serving coordinator jobs. */
  readonly outDir: string;
  readonly redisUrl: string;
  readonly prefix: string;
  /** @defaultValue derived from the scenario and seed (`runIdFor`); the same id resumes the region */
  readonly runId?: string;
  readonly onProgress?: (p: RegionProgress) => void;
}

/**
 * `migsim run REGION --redis URL`: the region as a BullMQ flow (`runRegionFlow`): one coordinator job per cluster,
 * taken by processes serving coordinator jobs (`migsim worker --coordinators N`), whose migrations go to the shared
 * migration workers. Writes the same region outputs as an embedded run (`region-summary.json`, `clusters.csv`,
 * `report.html`; each cluster's records in its folder, written by its coordinator) and gives the same digests: the
 * clusters' run ids are `clusterRunId(runId, cluster)` both ways.
 */
export async function runRegionDistributed(o: RegionDistributedOptions): Promise<RegionSummary> {
  const t0 = performance.now();
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const clusters = regionClusters(o.scenario);
  const runId = o.runId ?? runIdFor(o.scenario);
  // Each cluster's coordinator writes its progress under the cluster's run id (as `migsim run --redis` does): read
  // them for the progress bar, keeping a finished cluster's last figures.
  const seen = new Map<string, { jobsDone: number; simulatedS: number; wavesDone: number; wavesTotal: number; done: boolean }>();
  let clustersDone = 0;
  let reader: RedisClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  const report = (): void => {
    if (!o.onProgress) return;
    let jobs = 0;
    let sim = 0;
    let partial = 0;
    for (const p of seen.values()) {
      jobs += p.jobsDone;
      sim += p.simulatedS;
      if (!p.done && p.wavesTotal > 0) partial += p.wavesDone / p.wavesTotal;
    }
    const total = clusters.length;
    const fraction = Math.min(1, (clustersDone + partial) / total);
    const elapsed = (performance.now() - t0) / 1e3;
    o.onProgress({ clustersDone, clustersTotal: total, jobsDone: jobs, migrationsDone: 0, simulatedS: sim, fraction, etaS: fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null });
  };
  if (o.onProgress) {
    reader = createRedis(o.redisUrl, { blocking: false, connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS });
    await connectOrThrow(reader, o.redisUrl, REDIS_CONNECT_TIMEOUT_MS);
    const r = reader;
    timer = setInterval(() => {
      void Promise.all(clusters.map((c) => r.get(progressKey(o.prefix, clusterRunId(runId, c.name))).then((v) => [c.name, v] as const)))
        .then((rows) => {
          for (const [name, v] of rows) {
            const parsed = v === null ? undefined : clusterProgressSchema.safeParse(safeJson(v));
            if (!parsed?.success) continue;
            const p = parsed.data;
            const prev = seen.get(name) ?? { jobsDone: 0, simulatedS: 0, wavesDone: 0, wavesTotal: 0, done: false };
            seen.set(name, p.done ? { ...prev, jobsDone: p.jobsDone ?? prev.jobsDone, simulatedS: p.simulatedS ?? prev.simulatedS, done: true } : { jobsDone: p.jobsDone ?? 0, simulatedS: p.simulatedS ?? 0, wavesDone: p.wavesDone ?? 0, wavesTotal: p.wavesTotal ?? 0, done: false });
          }
          report();
        })
        .catch(() => {});
    }, REGION_DEFAULTS.progressIntervalMs * 2);
  }
  let flow;
  try {
    flow = await runRegionFlow({
      regionName: o.scenario.name,
      clusters,
      runId,
      redisUrl: o.redisUrl,
      prefix: o.prefix,
      outDir,
      onClusters: (done) => {
        clustersDone = done;
        report();
      },
    });
  } finally {
    if (timer) clearInterval(timer);
    reader?.disconnect();
  }
  const summary = regionSummary(o.scenario, runId, flow.clusters, clusters.map((c) => c.scenario.seed), (performance.now() - t0) / 1e3);
  writeRegionOutputs(outDir, summary);
  return summary;
}
