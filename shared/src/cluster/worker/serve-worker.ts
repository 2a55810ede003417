import { createLogger } from '../../common/logger.js';
import { installShutdown } from '../../common/shutdown.js';
import { SimWorker } from './sim-worker.js';
import type { WorkerOptions } from './worker-options.js';

/**
 * Runs a worker service in this process until SIGTERM/SIGINT: starts it (resolves once it is serving) and installs
 * the process's one shutdown handler, which closes it within its shutdown timeout and exits. Used by the worker
 * service's entry point and by `migsim worker`.
 */
export async function serveWorker(options: WorkerOptions): Promise<SimWorker> {
  const logger = createLogger('worker', options.logLevel);
  const worker = new SimWorker(options, logger);
  try {
    await worker.start();
  } catch (e) {
    await worker.close();
    throw e;
  }
  installShutdown({ stop: () => worker.close(), logger, timeoutMs: worker.options.shutdownTimeoutMs });
  return worker;
}
