import { z } from 'zod';
import { DEFAULT_PREFIX } from '../../../shared/src/queue/queue-names.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The worker's configuration, from flags over environment variables, validated once. Units are in the names.
 * REDIS_URL may carry a user and password (redis://user:pass@host:6379, or rediss:// for TLS); it is never logged.
 */
export const workerConfigSchema = z.object({
  // Connection
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  // Work
  WORKER_CONCURRENCY: int(1, 256).default(2),
  // Stalled-job recovery (BullMQ): a job whose lock is not renewed for LOCK_DURATION_MS is moved back to waiting
  // by the next stall check.
  LOCK_DURATION_MS: int(1000, 600_000).default(30_000),
  STALLED_INTERVAL_MS: int(1000, 600_000).default(30_000),
  // Metrics: /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT when a port is given
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // Shutdown
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(30_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;

/** Parses the configuration; the error names each bad variable. */
export function parseWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const r = workerConfigSchema.safeParse(env);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return r.data;
}
