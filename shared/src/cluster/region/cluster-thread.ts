import { parentPort } from 'node:worker_threads';
import { EmbeddedTransport } from '../fleet/embedded-transport.js';
import type { Progress } from '../fleet/progress.js';
import type { ClusterThreadMessage, ClusterThreadTask } from './cluster-thread-messages.js';
import { runCluster } from './run-cluster.js';

/**
 * A cluster thread of an embedded region run: for each task posted, runs one cluster with the embedded transport
 * (`runCluster`: its records go to its own folder as they complete), posts its progress at most every
 * `progressIntervalMs` and then its ClusterRunResult. The thread stays loaded between tasks.
 */
async function runTask(task: ClusterThreadTask): Promise<void> {
  let last = 0;
  let pending: Progress | undefined;
  const post = (m: ClusterThreadMessage): void => parentPort!.postMessage(m);
  try {
    const result = await runCluster({
      scenario: task.scenario,
      name: task.name,
      runId: task.runId,
      transport: new EmbeddedTransport(),
      outDir: task.outDir,
      ...(task.ndjson === undefined ? {} : { ndjson: task.ndjson }),
      onProgress: (p) => {
        pending = p;
        const now = performance.now();
        if (now - last < task.progressIntervalMs) return;
        last = now;
        pending = undefined;
        post({ kind: 'progress', progress: p });
      },
    });
    if (pending) post({ kind: 'progress', progress: pending });
    post({ kind: 'done', result });
  } catch (e) {
    post({ kind: 'failed', name: task.name, error: e instanceof Error ? e.message : String(e) });
  }
}

parentPort!.on('message', (task: ClusterThreadTask) => {
  void runTask(task);
});
