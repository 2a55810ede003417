import { parentPort } from 'node:worker_threads';
import { COORDINATOR_DEFAULTS } from '../coordinator/coordinator-options.js';
import { EmbeddedTransport } from '../fleet/embedded-transport.js';
import { BullmqTransport } from '../queue/bullmq-transport.js';
import { progressKey, resultsKey } from '../queue/queue-names.js';
import { checkpointResults, openRunCheckpoint, type CheckpointedRun } from '../coordinator/checkpointed-transport.js';
import { connectOrThrow, createRedis } from '../queue/redis-connection.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { threadReady } from '../worker/thread-ready.js';
import { clusterOutDir, type CoordinatorThreadReply, type CoordinatorThreadTask } from './coordinator-jobs.js';
import { runCluster } from './run-cluster.js';

/**
 * A cluster coordinator thread: for each task posted, runs one cluster of a region with its migrations sent through
 * BullMQ (or simulated on this thread, when the cluster job says `migrations: 'coordinator'`), writes the cluster's outputs and its progress (as `migsim run --redis` does), and posts its ClusterRunResult
 * back. The thread stays loaded between tasks (loading the sources takes a second or more of CPU); it posts
 * `threadReady()` once loaded.
 */
async function runTask(task: CoordinatorThreadTask): Promise<CoordinatorThreadReply> {
  const c = task.job;
  const redis = createRedis(task.redisUrl, { blocking: false, connectTimeoutMs: task.connectTimeoutMs });
  await connectOrThrow(redis, task.redisUrl, task.connectTimeoutMs);
  let transport: BullmqTransport | EmbeddedTransport | undefined;
  let checkpointed: CheckpointedRun | undefined;
  const migrations = c.migrations ?? 'workers';
  const key = progressKey(task.prefix, c.run_id);
  let lastWrite = 0;
  const t0 = performance.now();
  try {
    transport =
      migrations === 'coordinator'
        ? new EmbeddedTransport()
        : await BullmqTransport.open({ redisUrl: task.redisUrl, prefix: task.prefix, runId: c.run_id, jobsPerBatch: task.jobsPerBatch, connectTimeoutMs: task.connectTimeoutMs });
    // As a coordinator with an output folder does: results checkpointed into the cluster's folder and trimmed from
    // Redis as they arrive; a cluster job taken over after a crash resumes from the checkpoint.
    if (transport instanceof BullmqTransport) {
      checkpointed = checkpointResults(transport, { checkpoint: openRunCheckpoint(clusterOutDir(c.out_dir, c.name)), redis, resultsKey: resultsKey(task.prefix, c.run_id), trimChunk: COORDINATOR_DEFAULTS.trimChunk });
    }
    const result = await runCluster({
      scenario: c.scenario as unknown as Scenario,
      name: c.name,
      runId: c.run_id,
      transport: checkpointed?.transport ?? transport,
      outDir: c.out_dir,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastWrite < COORDINATOR_DEFAULTS.progressWriteIntervalMs) return;
        lastWrite = now;
        void redis.set(key, JSON.stringify({ ...p, at: new Date().toISOString() })).catch(() => {});
      },
    });
    await redis.set(key, JSON.stringify({ jobsDone: result.summary.jobs, simulatedS: result.summary.simulated_end_s, done: true, digest: result.digest, at: new Date().toISOString() }));
    await checkpointed?.finish();
    const queued = transport instanceof BullmqTransport ? transport : undefined;
    return { ok: true, result, jobsFromCache: (queued?.jobsFromCache ?? 0) + (checkpointed?.transport.jobsFromCheckpoint ?? 0), waitedS: queued?.waitedS ?? 0, wallS: (performance.now() - t0) / 1e3, migrations };
  } finally {
    checkpointed?.checkpoint.close();
    await transport?.close();
    redis.disconnect();
  }
}

parentPort!.on('message', (task: CoordinatorThreadTask) => {
  runTask(task).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) } satisfies CoordinatorThreadReply),
  );
});
parentPort!.postMessage(threadReady());
