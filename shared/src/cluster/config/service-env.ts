import { z } from 'zod';
import type { LogLevel } from '../../common/logger.js';
import { DEFAULT_PREFIX } from '../queue/queue-names.js';
import { REDIS_CONNECT_TIMEOUT_MS } from '../queue/queue-defaults.js';
import { redisUrlSchema } from '../queue/redis-connection.js';
import { ConfigInvalid } from './errors/config-invalid.js';

/** An integer environment variable within bounds. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The address the metrics server listens on when none is given (a container sets 0.0.0.0). */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** Shutdown budget of the coordinator and the load generator, ms (the worker's is longer: it lets jobs finish). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * What every service reads from its environment. REDIS_URL may carry a user and password
 * (redis://user:pass@host:6379, rediss:// for TLS, several host:port for a Redis Cluster); it is never logged.
 */
export const serviceEnvFields = {
  REDIS_URL: redisUrlSchema,
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  /** Give up connecting to Redis at start after this long. */
  REDIS_CONNECT_TIMEOUT_MS: envInt(100, 600_000).default(REDIS_CONNECT_TIMEOUT_MS),
  // Metrics: /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT when a port is given
  METRICS_PORT: envInt(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default(DEFAULT_METRICS_HOST),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};

/** Seconds to keep serving metrics after the work ends (so Prometheus scrapes the final totals). */
export const lingerSecondsField = z.coerce.number().min(0).max(86_400).default(0);

/** The settings every service has, as its options take them. */
export interface ServiceSettings {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly connectTimeoutMs: number;
  /** Serve /metrics, /healthz, /readyz here; none without a port. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly logLevel: LogLevel;
}

/** The common fields of a parsed environment as options. */
export function serviceSettings(env: {
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  REDIS_CONNECT_TIMEOUT_MS: number;
  METRICS_PORT?: number | undefined;
  METRICS_HOST: string;
  LOG_LEVEL: LogLevel;
}): ServiceSettings {
  return {
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
    metrics: env.METRICS_PORT === undefined ? undefined : { host: env.METRICS_HOST, port: env.METRICS_PORT },
    logLevel: env.LOG_LEVEL,
  };
}

/** Validates a service's environment once; a ConfigInvalid names each bad variable. */
export function parseServiceEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const r = schema.safeParse(env);
  if (!r.success) throw new ConfigInvalid(r.error.issues.map((i) => ({ key: i.path.join('.') || '(environment)', message: i.message })));
  return r.data;
}
