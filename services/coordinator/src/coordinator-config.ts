import { z } from 'zod';
import { DEFAULT_PREFIX } from '../../../shared/src/queue/queue-names.js';

/** The coordinator's configuration (flags over environment), validated once; REDIS_URL is never logged. */
export const coordinatorConfigSchema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  /** Scenario file or bundled scenario name. */
  SCENARIO: z.string().min(1).default('quick'),
  OUT_DIR: z.string().min(1).optional(),
  RUN_ID: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/).optional(),
  SEED: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  // Metrics: /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT when a port is given
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Keep serving metrics this long after the run ends (so Prometheus scrapes the final totals). */
  LINGER_SECONDS: z.coerce.number().min(0).max(86_400).default(0),
});

export type CoordinatorConfig = z.output<typeof coordinatorConfigSchema>;

export function parseCoordinatorConfig(env: Record<string, string | undefined>): CoordinatorConfig {
  const r = coordinatorConfigSchema.safeParse(env);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return r.data;
}
