import { runIdFor } from '../cluster/experiment/run-experiment.js';
import { RedisUnreachable } from '../cluster/queue/errors/redis-unreachable.js';
import { DEFAULT_PREFIX } from '../cluster/queue/queue-names.js';
import { runRegionDistributed } from '../cluster/region/run-region-distributed.js';
import type { RegionProgress } from '../cluster/region/run-region.js';
import type { RegionSummary } from '../cluster/region/region-summary.js';
import type { Scenario } from '../cluster/scenario/scenario-schema.js';
import { CliError } from './cli-error.js';
import { interruptNotice } from './interrupt-notice.js';
import { redisUrlFlag } from './redis-url-flag.js';

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
  const redisUrl = await redisUrlFlag(o.redisUrl);
  const runId = o.runId ?? runIdFor(o.scenario);
  const removeShutdown = interruptNotice({ name: 'run', progress: o.progress, notice: `interrupted. The region's cluster jobs stay in Redis under run ${runId}; run the same command again to pick them up.` });
  if (o.progress) process.stderr.write(`migsim: region run ${runId}: its clusters are coordinator jobs; serve them with \`migsim worker --redis URL --coordinators N\`\n`);
  try {
    return await runRegionDistributed({
      scenario: o.scenario,
      outDir: o.outDir,
      redisUrl,
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
