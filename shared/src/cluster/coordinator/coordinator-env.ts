import { z } from 'zod';
import { lingerSecondsField, parseServiceEnv, serviceEnvFields } from '../config/service-env.js';

/** The coordinator's configuration (environment), validated once; REDIS_URL is never logged. */
export const coordinatorConfigSchema = z.object({
  ...serviceEnvFields,
  /** Scenario file or bundled scenario name. */
  SCENARIO: z.string().min(1).default('quick'),
  OUT_DIR: z.string().min(1).optional(),
  RUN_ID: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/).optional(),
  SEED: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional(),
  /** Keep serving metrics this long after the run ends (so Prometheus scrapes the final totals). */
  LINGER_SECONDS: lingerSecondsField,
});

export type CoordinatorConfig = z.output<typeof coordinatorConfigSchema>;

export function parseCoordinatorConfig(env: Record<string, string | undefined>): CoordinatorConfig {
  return parseServiceEnv(coordinatorConfigSchema, env);
}
