import type { RedisClient } from '../../../shared/src/queue/redis-connection.js';
import type { Logger } from '../../../shared/src/common/logger.js';
import { runExperiment, runIdFor, type ExperimentResult } from '../../../shared/src/experiment/run-experiment.js';
import type { Progress } from '../../../shared/src/fleet/fleet-simulation.js';
import { BullmqTransport } from '../../../shared/src/queue/bullmq-transport.js';
import { progressKey } from '../../../shared/src/queue/queue-names.js';
import { connectOrThrow, createRedis, redactRedisUrl } from '../../../shared/src/queue/redis-connection.js';
import type { Scenario } from '../../../shared/src/scenario/scenario-schema.js';

export interface CoordinatorOptions {
  readonly scenario: Scenario;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly runId?: string | undefined;
  readonly outDir?: string | undefined;
  readonly onProgress?: (p: Progress) => void;
}

/**
 * The coordinator service: runs the fleet simulation with jobs sent through BullMQ, publishes its progress in
 * Redis, and writes the run's outputs. Finished jobs' results live in Redis, so a coordinator restarted with the
 * same scenario and seed (same run id) resumes without simulating them again.
 */
export class Coordinator {
  private transport: BullmqTransport | undefined;
  private redis: RedisClient | undefined;
  readonly runId: string;

  constructor(
    private readonly opts: CoordinatorOptions,
    private readonly logger: Logger,
  ) {
    this.runId = opts.runId ?? runIdFor(opts.scenario);
  }

  async run(): Promise<ExperimentResult & { jobsFromCache: number; jobsQueued: number }> {
    const o = this.opts;
    this.redis = createRedis(o.redisUrl, { blocking: false });
    await connectOrThrow(this.redis, o.redisUrl);
    this.transport = await BullmqTransport.open({ redisUrl: o.redisUrl, prefix: o.prefix, runId: this.runId });
    this.logger.info('coordinator started', { redis: redactRedisUrl(o.redisUrl), run_id: this.runId, scenario: o.scenario.name });
    let lastWrite = 0;
    const result = await runExperiment({
      scenario: o.scenario,
      transport: this.transport,
      runId: this.runId,
      ...(o.outDir ? { outDir: o.outDir } : {}),
      onProgress: (p) => {
        o.onProgress?.(p);
        const now = Date.now();
        if (now - lastWrite > 500) {
          lastWrite = now;
          void this.redis?.set(progressKey(o.prefix, this.runId), JSON.stringify({ ...p, at: new Date().toISOString() })).catch(() => {});
        }
      },
    });
    await this.redis.set(progressKey(o.prefix, this.runId), JSON.stringify({ done: true, digest: result.summary.digest, at: new Date().toISOString() }));
    return { ...result, jobsFromCache: this.transport.jobsFromCache, jobsQueued: this.transport.jobsQueued };
  }

  async stop(): Promise<void> {
    await this.transport?.close();
    this.redis?.disconnect();
  }
}
