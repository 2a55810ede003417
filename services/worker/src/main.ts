import { serveWorker } from '../../../shared/src/cluster/worker/serve-worker.js';
import { workerOptionsFromEnv } from '../../../shared/src/cluster/worker/worker-env.js';

/** The worker service: options from the environment (REDIS_URL, WORKER_CONCURRENCY, ...), then serve until a signal. */
export async function main(): Promise<void> {
  await serveWorker(workerOptionsFromEnv(process.env));
}
