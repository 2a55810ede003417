import { z } from 'zod';
import { DEFAULT_PREFIX } from '../../../shared/src/queue/queue-names.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The load generator's configuration (environment, validated once). It submits capacity-planning runs to the
 * workers through the queues: LOAD_RUNS runs (or, with LOAD_DURATION_S, one every LOAD_INTERVAL_S seconds for that
 * long), each a fleet sized from LOAD_SCENARIO to evacuate about LOAD_MIGRATIONS VMs.
 */
export const loadgenConfigSchema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  /** Template scenario (file or bundled name) whose fleet is resized. */
  LOAD_SCENARIO: z.string().min(1).default('rolling-upgrade-1000'),
  /** VMs to evacuate per run (each run has about this many migrations). */
  LOAD_MIGRATIONS: int(1, 10_000_000).default(2000),
  LOAD_RUNS: int(1, 100_000).default(1),
  /** Seconds between run submissions (0: all at once). */
  LOAD_INTERVAL_S: z.coerce.number().min(0).max(86_400).default(0),
  /** Keep submitting a run every LOAD_INTERVAL_S seconds for this long (instead of LOAD_RUNS runs). */
  LOAD_DURATION_S: z.coerce.number().positive().max(7 * 86_400).optional(),
  /** At most this many runs in progress at once; a run due while all slots are busy waits (0: no limit). */
  LOAD_MAX_ACTIVE_RUNS: int(0, 10_000).default(0),
  /** Seed of the first run; run i uses LOAD_SEED + i. */
  LOAD_SEED: int(0, 2 ** 31 - 2).default(1),
  /** Distinguishes this load test's run ids from earlier ones (default: time-based). */
  LOAD_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  /** Keep each run's results in Redis after it finished (default: delete them, so memory stays flat). */
  LOAD_KEEP_RESULTS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  OUT_DIR: z.string().min(1).default('out/loadgen'),
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Keep serving metrics this long after the last run (so Prometheus scrapes the final totals). */
  LINGER_SECONDS: z.coerce.number().min(0).max(86_400).default(0),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
}).refine((c) => c.LOAD_DURATION_S === undefined || c.LOAD_INTERVAL_S > 0, {
  message: 'with LOAD_DURATION_S, give LOAD_INTERVAL_S > 0 (seconds between runs)',
  path: ['LOAD_INTERVAL_S'],
});

export type LoadgenConfig = z.output<typeof loadgenConfigSchema>;

export function parseLoadgenConfig(env: Record<string, string | undefined>): LoadgenConfig {
  const r = loadgenConfigSchema.safeParse(env);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return r.data;
}
