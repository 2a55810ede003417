import { createLogger } from '../../common/logger.js';
import { installShutdown } from '../../common/shutdown.js';
import { CoordinatorJobServer } from '../region/coordinator-jobs.js';
import { SimWorker } from './sim-worker.js';
import type { WorkerOptions } from './worker-options.js';

/**
 * Runs a worker service in this process until SIGTERM/SIGINT: starts it (resolves once it is serving), and with
 * `coordinators` > 0 also serves cluster coordinator jobs (a region run's flow), and installs the process's one
 * shutdown handler, which closes both within the shutdown timeout and exits. Used by the worker service's entry point
 * and by `migsim worker`.
 */
export async function serveWorker(options: WorkerOptions): Promise<SimWorker> {
  const logger = createLogger('worker', options.logLevel);
  const worker = new SimWorker(options, logger);
  const o = worker.options;
  const coordinators =
    o.coordinators > 0
      ? new CoordinatorJobServer(
          {
            redisUrl: o.redisUrl,
            prefix: o.prefix,
            concurrency: o.coordinators,
            lockDurationMs: o.coordinatorLockDurationMs,
            stalledIntervalMs: o.stalledIntervalMs,
            maxStalledCount: o.maxStalledCount,
            connectTimeoutMs: o.connectTimeoutMs,
          },
          createLogger('coordinator', options.logLevel),
        )
      : undefined;
  try {
    await worker.start();
    await coordinators?.start();
    // Every thread has loaded its modules: from here on the process serves at full speed. Tools that start workers
    // (the region bench) wait for this line instead of sleeping; the thread ids locate each role in /proc and top -H.
    logger.info('worker ready', {
      startup_s: Number(process.uptime().toFixed(3)),
      pid: process.pid,
      simulation_tids: worker.threadIds,
      coordinator_tids: coordinators?.threadIds ?? [],
    });
  } catch (e) {
    await coordinators?.close();
    await worker.close();
    throw e;
  }
  installShutdown({
    stop: async () => {
      await coordinators?.close();
      await worker.close();
    },
    logger,
    timeoutMs: o.shutdownTimeoutMs,
  });
  return worker;
}
