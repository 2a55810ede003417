import { z } from 'zod';
import { envInt, parseServiceEnv, serviceEnvFields, serviceSettings } from '../config/service-env.js';
import { MAX_COORDINATORS, MAX_SIMULATION_THREADS, MAX_WORKER_CONCURRENCY, WORKER_DEFAULTS, type WorkerOptions } from './worker-options.js';

/** The worker's environment (the service's configuration), validated once. Units are in the names. */
export const workerEnvSchema = z.object({
  ...serviceEnvFields,
  // Work
  WORKER_CONCURRENCY: envInt(1, MAX_WORKER_CONCURRENCY).default(WORKER_DEFAULTS.concurrency),
  /** Simulation threads; default: the concurrency, at most 64. */
  WORKER_THREADS: envInt(1, MAX_SIMULATION_THREADS).optional(),
  /** Cluster coordinators (region flow jobs) run at once in this process; 0: none. */
  WORKER_COORDINATORS: envInt(0, MAX_COORDINATORS).default(WORKER_DEFAULTS.coordinators),
  COORDINATOR_LOCK_DURATION_MS: envInt(1000, 600_000).default(WORKER_DEFAULTS.coordinatorLockDurationMs),
  THREAD_MAX_HEAP_MB: envInt(64, 65_536).default(WORKER_DEFAULTS.threadMaxHeapMb),
  // Stalled-job recovery (BullMQ)
  LOCK_DURATION_MS: envInt(1000, 600_000).default(WORKER_DEFAULTS.lockDurationMs),
  STALLED_INTERVAL_MS: envInt(1000, 600_000).default(WORKER_DEFAULTS.stalledIntervalMs),
  MAX_STALLED_COUNT: envInt(0, 100).default(WORKER_DEFAULTS.maxStalledCount),
  /** Store results deflated (1) or as plain JSON (0). */
  COMPRESS_RESULTS: z.enum(['0', '1']).optional(),
  // Shutdown
  SHUTDOWN_TIMEOUT_MS: envInt(100, 600_000).default(WORKER_DEFAULTS.shutdownTimeoutMs),
});

export type WorkerEnv = z.output<typeof workerEnvSchema>;

/** The worker's options from its environment; a ConfigInvalid names each bad variable. */
export function workerOptionsFromEnv(env: Record<string, string | undefined>): WorkerOptions {
  const e = parseServiceEnv(workerEnvSchema, env);
  return {
    ...serviceSettings(e),
    concurrency: e.WORKER_CONCURRENCY,
    ...(e.WORKER_THREADS === undefined ? {} : { threads: e.WORKER_THREADS }),
    threadMaxHeapMb: e.THREAD_MAX_HEAP_MB,
    coordinators: e.WORKER_COORDINATORS,
    coordinatorLockDurationMs: e.COORDINATOR_LOCK_DURATION_MS,
    lockDurationMs: e.LOCK_DURATION_MS,
    stalledIntervalMs: e.STALLED_INTERVAL_MS,
    maxStalledCount: e.MAX_STALLED_COUNT,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    ...(e.COMPRESS_RESULTS === undefined ? {} : { compressResults: e.COMPRESS_RESULTS === '1' }),
  };
}
