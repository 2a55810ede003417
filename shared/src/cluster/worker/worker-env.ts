import { z } from 'zod';
import { envInt, parseServiceEnv, serviceEnvFields } from '../config/service-env.js';

/** The worker's configuration, from flags over environment variables, validated once. Units are in the names. */
export const workerConfigSchema = z.object({
  ...serviceEnvFields,
  // Work
  WORKER_CONCURRENCY: envInt(1, 256).default(2),
  // Stalled-job recovery (BullMQ): a job whose lock is not renewed for LOCK_DURATION_MS is moved back to waiting
  // by the next stall check.
  LOCK_DURATION_MS: envInt(1000, 600_000).default(30_000),
  STALLED_INTERVAL_MS: envInt(1000, 600_000).default(30_000),
  // Shutdown
  SHUTDOWN_TIMEOUT_MS: envInt(100, 600_000).default(30_000),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;

/** Parses the configuration; the error names each bad variable. */
export function parseWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseServiceEnv(workerConfigSchema, env);
}
