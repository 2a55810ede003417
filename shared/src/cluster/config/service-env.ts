import { z } from 'zod';
import { DEFAULT_PREFIX } from '../queue/queue-names.js';
import { redisUrlSchema } from '../queue/redis-connection.js';

/** An integer environment variable within bounds. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * What every service reads from its environment. REDIS_URL may carry a user and password
 * (redis://user:pass@host:6379, rediss:// for TLS, several host:port for a Redis Cluster); it is never logged.
 */
export const serviceEnvFields = {
  REDIS_URL: redisUrlSchema,
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  // Metrics: /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT when a port is given
  METRICS_PORT: envInt(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};

/** Seconds to keep serving metrics after the work ends (so Prometheus scrapes the final totals). */
export const lingerSecondsField = z.coerce.number().min(0).max(86_400).default(0);

/** Validates a service's environment once; the error names each bad variable (one line each). */
export function parseServiceEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const r = schema.safeParse(env);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return r.data;
}
