import { mkdirSync, writeFileSync } from 'node:fs';
import { clusterRunId } from './region-clusters.js';
import { join } from 'node:path';
import { FlowProducer, Job, Queue } from 'bullmq';
import { REDIS_CONNECT_TIMEOUT_MS } from '../queue/queue-defaults.js';
import { failuresKey, progressKey, resultsKey } from '../queue/queue-names.js';
import { connectOrThrow, createRedis } from '../queue/redis-connection.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';
import { CLUSTER_JOB_NAME, clusterOutDir, COORDINATORS_QUEUE, REGION_JOB_NAME, REGIONS_QUEUE, type ClusterJob, type ClusterMigrations } from './coordinator-jobs.js';
import { regionDigest } from './region-summary.js';

/** One cluster of a region: its name and its resolved scenario. */
export interface RegionCluster {
  readonly name: string;
  readonly scenario: Scenario;
}

export interface RegionFlowOptions {
  readonly regionName: string;
  readonly clusters: readonly RegionCluster[];
  /** The region run's id: its parent job's id; each cluster's run id is `<runId>.<cluster>`. */
  readonly runId: string;
  readonly redisUrl: string;
  readonly prefix: string;
  /** The region's output directory, on a filesystem the coordinator processes share (see `coordinator-jobs.ts`). */
  readonly outDir: string;
  /** Attempts of a cluster job that fails (not one that stalls: stalls are retried by the stall check). @defaultValue 2 */
  readonly clusterAttempts?: number;
  /** How often the parent's state is read while the clusters run, ms. @defaultValue 200 */
  readonly pollMs?: number;
  /** Keep the clusters' results hashes in Redis after the region completes. @defaultValue false */
  readonly keepResults?: boolean;
  readonly connectTimeoutMs?: number;
  /**
   * Where the clusters' migration jobs run: through the jobs queue on the migration workers, or on each cluster's
   * coordinator thread. @defaultValue REGION_FLOW_DEFAULTS.migrations ('workers')
   */
  readonly migrations?: ClusterMigrations;
  /** Called at each poll with the clusters finished so far. */
  readonly onClusters?: (done: number, total: number) => void;
}

export interface RegionFlowResult {
  readonly name: string;
  readonly runId: string;
  readonly clusters: readonly ClusterRunResult[];
  readonly digest: string;
  readonly migrations: number;
  readonly wallS: number;
}

export const REGION_FLOW_DEFAULTS = {
  /**
   * A cluster's migration jobs go through the jobs queue to the migration workers: the region's work spreads over
   * every worker core, not only over the processes running coordinators. Shipping a migration costs more CPU than
   * simulating it (docs/scaling.md: ~35 µs of simulation against ~0.1 ms of serialisation, validation and Redis on
   * both sides), so `coordinator` pays when the region has at least as many clusters as there are cores.
   */
  migrations: 'workers' as ClusterMigrations,
};

/** The cluster jobs of a region failed: the reason of the first failure BullMQ reports. */
export class RegionFlowFailed extends Error {
  override readonly name = 'RegionFlowFailed';
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super(`region run ${runId} failed: ${reason}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a region distributed, as a BullMQ flow: a parent job (the region run, on `regions`) with one child per cluster
 * on `coordinators`. Processes serving coordinator jobs run the clusters; this process waits until every child has
 * completed (the parent leaves `waiting-children`), reads the children's return values (each a ClusterRunResult),
 * writes `region.json` into `outDir`, removes the flow's jobs and, unless `keepResults`, the clusters' results.
 * Adding the same flow again (a region process restarted with the same run id) is a no-op for jobs that still exist.
 */
export async function runRegionFlow(o: RegionFlowOptions): Promise<RegionFlowResult> {
  const t0 = performance.now();
  mkdirSync(o.outDir, { recursive: true });
  const timeout = o.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
  const conn = createRedis(o.redisUrl, { blocking: true, connectTimeoutMs: timeout });
  await connectOrThrow(conn, o.redisUrl, timeout);
  const flow = new FlowProducer({ connection: conn, prefix: o.prefix });
  flow.on('error', () => {});
  const regions = new Queue(REGIONS_QUEUE, { connection: conn, prefix: o.prefix });
  regions.on('error', () => {});
  try {
    await flow.add({
      name: REGION_JOB_NAME,
      queueName: REGIONS_QUEUE,
      data: { name: o.regionName, run_id: o.runId, clusters: o.clusters.map((c) => c.name), out_dir: o.outDir },
      opts: { jobId: o.runId },
      children: o.clusters.map((c) => {
        const migrations = o.migrations ?? REGION_FLOW_DEFAULTS.migrations;
        const data: ClusterJob = {
          region_run_id: o.runId,
          name: c.name,
          run_id: clusterRunId(o.runId, c.name),
          out_dir: o.outDir,
          scenario: c.scenario as unknown as Record<string, unknown>,
          // Only when not the default: workers from before the field (a strict schema) still take the default's jobs.
          ...(migrations === 'workers' ? {} : { migrations }),
        };
        return {
          name: CLUSTER_JOB_NAME,
          queueName: COORDINATORS_QUEUE,
          data,
          opts: {
            jobId: data.run_id,
            attempts: o.clusterAttempts ?? 2,
            backoff: { type: 'fixed' as const, delay: 1000 },
            failParentOnFailure: true,
            removeOnComplete: true,
            removeOnFail: { count: 100 },
          },
        };
      }),
    });
    const values = await waitForChildren(regions, o);
    const byKey = new Map<string, ClusterRunResult>();
    for (const v of Object.values(values)) byKey.set(v.name, v);
    const clusters = o.clusters.map((c) => {
      const r = byKey.get(c.name);
      if (!r) throw new RegionFlowFailed(o.runId, `no result for cluster ${c.name}`);
      return r;
    });
    const digest = regionDigest(clusters.map((c) => c.digest));
    const migrations = clusters.reduce((a, c) => a + c.migrations, 0);
    const wallS = (performance.now() - t0) / 1e3;
    writeFileSync(
      join(o.outDir, 'region.json'),
      `${JSON.stringify({ region: o.regionName, run_id: o.runId, digest, migrations, wall_s: wallS, clusters: clusters.map((c) => ({ name: c.name, digest: c.digest, migrations: c.migrations, out_dir: clusterOutDir(o.outDir, c.name) })) }, null, 2)}\n`,
    );
    const parent = await Job.fromId(regions, o.runId);
    await parent?.remove().catch(() => {});
    if (!o.keepResults) {
      const keys = o.clusters.flatMap((c) => {
        const id = clusterRunId(o.runId, c.name);
        return [resultsKey(o.prefix, id), failuresKey(o.prefix, id), progressKey(o.prefix, id)];
      });
      // One key at a time: on a Redis Cluster the clusters' keys may live on different shards.
      for (const k of keys) await conn.del(k);
    }
    return { name: o.regionName, runId: o.runId, clusters, digest, migrations, wallS };
  } finally {
    await flow.close().catch(() => {});
    await regions.close().catch(() => {});
    conn.disconnect();
  }
}

/** Polls the parent until its children are all done; throws RegionFlowFailed if it failed (a child failed for good). */
async function waitForChildren(regions: Queue, o: RegionFlowOptions): Promise<Record<string, ClusterRunResult>> {
  const pollMs = o.pollMs ?? 200;
  for (;;) {
    const parent = await Job.fromId(regions, o.runId);
    if (!parent) throw new RegionFlowFailed(o.runId, 'the region job disappeared from Redis');
    const state = await parent.getState();
    if (state === 'failed') throw new RegionFlowFailed(o.runId, parent.failedReason || 'a cluster job failed');
    if (o.onClusters) {
      const counts = await parent.getDependenciesCount({ processed: true, unprocessed: true });
      o.onClusters(counts.processed ?? 0, o.clusters.length);
    }
    if (state !== 'waiting-children') return parent.getChildrenValues<ClusterRunResult>();
    await sleep(pollMs);
  }
}
