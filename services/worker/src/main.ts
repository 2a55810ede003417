import { createLogger } from '../../../shared/src/common/logger.js';
import { installShutdown } from '../../../shared/src/common/shutdown.js';
import { SimWorker } from '../../../shared/src/cluster/worker/sim-worker.js';
import { parseWorkerConfig, type WorkerConfig } from '../../../shared/src/cluster/worker/worker-env.js';

/** Starts a worker from a configuration; resolves once it is serving. Exits on SIGTERM/SIGINT after a clean stop. */
export async function runWorker(config: WorkerConfig): Promise<SimWorker> {
  const logger = createLogger('worker', config.LOG_LEVEL);
  const worker = new SimWorker(config, logger);
  await worker.start();
  installShutdown(() => worker.close(), logger, config.SHUTDOWN_TIMEOUT_MS);
  return worker;
}

/** The worker service's entrypoint: configuration from the environment. */
export async function main(): Promise<void> {
  await runWorker(parseWorkerConfig(process.env));
}
