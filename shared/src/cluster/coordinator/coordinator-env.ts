import { z } from 'zod';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, envInt, lingerSecondsField, parseServiceEnv, serviceEnvFields, serviceSettings, type ServiceSettings } from '../config/service-env.js';
import { RUN_ID_PATTERN } from '../queue/queue-names.js';
import { DEFAULT_SCENARIO } from '../scenario/find-scenario.js';

/** The coordinator service's environment, validated once; REDIS_URL is never logged. */
export const coordinatorEnvSchema = z.object({
  ...serviceEnvFields,
  /** Scenario file or bundled scenario name. */
  SCENARIO: z.string().min(1).default(DEFAULT_SCENARIO),
  OUT_DIR: z.string().min(1).optional(),
  RUN_ID: z.string().regex(RUN_ID_PATTERN, 'run ids are 1 to 128 letters, digits, dots, dashes or underscores').optional(),
  SEED: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional(),
  /** Keep serving metrics this long after the run ends (so Prometheus scrapes the final totals). */
  LINGER_SECONDS: lingerSecondsField,
  SHUTDOWN_TIMEOUT_MS: envInt(100, 600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
});

/** The coordinator service's settings: the scenario to load and how to run it. */
export interface CoordinatorServiceConfig extends ServiceSettings {
  readonly scenario: string;
  readonly seed: number | undefined;
  readonly outDir: string | undefined;
  readonly runId: string | undefined;
  readonly lingerSeconds: number;
  readonly shutdownTimeoutMs: number;
}

/** The coordinator service's settings from its environment; a ConfigInvalid names each bad variable. */
export function coordinatorConfigFromEnv(env: Record<string, string | undefined>): CoordinatorServiceConfig {
  const e = parseServiceEnv(coordinatorEnvSchema, env);
  return {
    ...serviceSettings(e),
    scenario: e.SCENARIO,
    seed: e.SEED,
    outDir: e.OUT_DIR,
    runId: e.RUN_ID,
    lingerSeconds: e.LINGER_SECONDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
