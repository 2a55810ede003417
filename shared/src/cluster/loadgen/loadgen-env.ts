import { z } from 'zod';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, envInt, lingerSecondsField, parseServiceEnv, serviceEnvFields } from '../config/service-env.js';
import { RUN_ID_PATTERN } from '../queue/queue-names.js';

/**
 * The load generator's configuration (environment, validated once). It submits capacity-planning runs to the
 * workers through the queues: LOAD_RUNS runs (or, with LOAD_DURATION_S, one every LOAD_INTERVAL_S seconds for that
 * long), each a fleet sized from LOAD_SCENARIO to evacuate about LOAD_MIGRATIONS VMs.
 */
export const loadgenEnvSchema = z.object({
  ...serviceEnvFields,
  /** Template scenario (file or bundled name) whose fleet is resized. */
  LOAD_SCENARIO: z.string().min(1).default('rolling-upgrade-1000'),
  /** VMs to evacuate per run (each run has about this many migrations). */
  LOAD_MIGRATIONS: envInt(1, 10_000_000).default(2000),
  LOAD_RUNS: envInt(1, 100_000).default(1),
  /** Seconds between run submissions (0: all at once). */
  LOAD_INTERVAL_S: z.coerce.number().min(0).max(86_400).default(0),
  /** Keep submitting a run every LOAD_INTERVAL_S seconds for this long (instead of LOAD_RUNS runs). */
  LOAD_DURATION_S: z.coerce.number().positive().max(7 * 86_400).optional(),
  /** At most this many runs in progress at once; a run due while all slots are busy waits (0: no limit). */
  LOAD_MAX_ACTIVE_RUNS: envInt(0, 10_000).default(0),
  /** Seed of the first run; run i uses LOAD_SEED + i. */
  LOAD_SEED: envInt(0, 2 ** 31 - 2).default(1),
  /** Distinguishes this load test's run ids from earlier ones (default: time-based). */
  LOAD_ID: z.string().regex(RUN_ID_PATTERN).max(64).optional(),
  /** Keep each run's results in Redis after it finished (default: delete them, so memory stays flat). */
  LOAD_KEEP_RESULTS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  OUT_DIR: z.string().min(1).default('out/loadgen'),
  /** Keep serving metrics this long after the last run (so Prometheus scrapes the final totals). */
  LINGER_SECONDS: lingerSecondsField,
  /** On SIGTERM/SIGINT, time to stop the runs in progress before exiting anyway. */
  SHUTDOWN_TIMEOUT_MS: envInt(100, 600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
}).refine((c) => c.LOAD_DURATION_S === undefined || c.LOAD_INTERVAL_S > 0, {
  message: 'with LOAD_DURATION_S, give LOAD_INTERVAL_S > 0 (seconds between runs)',
  path: ['LOAD_INTERVAL_S'],
});

export type LoadgenConfig = z.output<typeof loadgenEnvSchema>;

export function parseLoadgenConfig(env: Record<string, string | undefined>): LoadgenConfig {
  return parseServiceEnv(loadgenEnvSchema, env);
}
