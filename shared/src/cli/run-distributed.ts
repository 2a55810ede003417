import type { Progress } from '../fleet/fleet-simulation.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { CliError } from './cli-error.js';

export interface DistributedRunOptions {
  readonly scenario: Scenario;
  readonly outDir: string;
  readonly redisUrl: string;
  readonly runId: string | undefined;
  readonly progress: { update: (p: Progress) => void; done: () => void } | undefined;
  readonly out: (text: string) => void;
}

/** `migsim run --redis`: the coordinator against workers over BullMQ (see services/coordinator). */
export async function runDistributed(_opts: DistributedRunOptions): Promise<void> {
  throw new CliError('--redis: the BullMQ transport is not available in this build yet; run without --redis (embedded)');
}
