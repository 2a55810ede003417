import { ProfileInvalid } from '../../kernel/mmu/errors/profile-invalid.js';
import { MetricsListenError } from '../observability/errors/metrics-listen-error.js';
import { RedisUnreachable } from '../queue/errors/redis-unreachable.js';
import { ScenarioInvalid } from '../scenario/errors/scenario-invalid.js';
import { ScenarioNotFound } from '../scenario/errors/scenario-not-found.js';
import { CheckpointInvalid } from '../coordinator/errors/checkpoint-invalid.js';
import { ConfigInvalid } from './errors/config-invalid.js';

/** Errors a service's operator fixes in its configuration (not bugs): the entry point exits with status 2. */
const CONFIGURATION_ERRORS = [ConfigInvalid, ScenarioInvalid, ScenarioNotFound, ProfileInvalid, RedisUnreachable, MetricsListenError, CheckpointInvalid] as const;

/** A service's exit status for an error that ended it: 2 for a configuration to fix, 1 for anything else. */
export function exitStatusOf(e: unknown): 1 | 2 {
  return CONFIGURATION_ERRORS.some((C) => e instanceof C) ? 2 : 1;
}
