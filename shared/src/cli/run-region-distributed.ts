import { createLogger } from '../common/logger.js';
import { installShutdown } from '../common/shutdown.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../cluster/config/service-env.js';
import { runIdFor } from '../cluster/experiment/run-experiment.js';
import { RedisUnreachable } from '../cluster/queue/errors/redis-unreachable.js';
import { DEFAULT_PREFIX } from '../cluster/queue/queue-names.js';
import { redactRedisUrl, redisUrlSchema } from '../cluster/queue/redis-connection.js';
import { runRegionDistributed } from '../cluster/region/run-region-distributed.js';
import type { RegionProgress, RegionSummary } from '../cluster/region/run-region.js';
import type { Scenario } from '../cluster/scenario/scenario-schema.js';
import { CliError } from './cli-error.js';

/**
 * `migsim run REGION --redis URL`: the region as a BullMQ flow (one coordinator job per cluster); processes started
 * with `migsim worker --redis URL --coordinators N` run the clusters. Ctrl-C leaves the flow in Redis: the same
 * command (same run id) picks it up again.
 */
export async function runRegionWithRedis(o: {
  scenario: Scenario;
  outDir: string;
  redisUrl: string;
  runId: string | undefined;
  progress: { readonly update: (p: RegionProgress) => void; readonly done: () => void } | undefined;
}): Promise<RegionSummary> {
  const url = redisUrlSchema.safeParse(o.redisUrl);
  if (!url.success) throw new CliError(`--redis: ${url.error.issues[0]?.message ?? 'not a Redis URL'} (got '${redactRedisUrl(o.redisUrl)}')`);
  const runId = o.runId ?? runIdFor(o.scenario);
  const removeShutdown = installShutdown({
    stop: async () => {},
    logger: createLogger('run', 'warn'),
    timeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    exitCode: 130,
    onSignal: () => {
      o.progress?.done();
      process.stderr.write(`migsim: interrupted. The region's cluster jobs stay in Redis under run ${runId}; run the same command again to pick them up.\n`);
    },
  });
  if (o.progress) process.stderr.write(`migsim: region run ${runId}: its clusters are coordinator jobs; serve them with \`migsim worker --redis URL --coordinators N\`\n`);
  try {
    return await runRegionDistributed({
      scenario: o.scenario,
      outDir: o.outDir,
      redisUrl: o.redisUrl,
      prefix: process.env.QUEUE_PREFIX ?? DEFAULT_PREFIX,
      runId,
      ...(o.progress ? { onProgress: o.progress.update } : {}),
    });
  } catch (e) {
    if (e instanceof RedisUnreachable) throw new CliError(`--redis: ${e.message}`);
    throw e;
  } finally {
    removeShutdown();
  }
}
