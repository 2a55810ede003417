import { createLogger } from '../common/logger.js';
import { installShutdown } from '../common/shutdown.js';
import { Coordinator } from '../cluster/coordinator/coordinator.js';
import { CheckpointInvalid } from '../cluster/coordinator/errors/checkpoint-invalid.js';
import { MetricsListenError } from '../cluster/observability/errors/metrics-listen-error.js';
import { RedisUnreachable } from '../cluster/queue/errors/redis-unreachable.js';
import { DEFAULT_PREFIX } from '../cluster/queue/queue-names.js';
import type { Scenario } from '../cluster/scenario/scenario-schema.js';
import { CliError } from './cli-error.js';
import { formatSummaryLines } from './format-summary.js';
import type { ProgressReporter } from './progress-reporter.js';

export interface DistributedRunOptions {
  readonly scenario: Scenario;
  readonly outDir: string;
  readonly redisUrl: string;
  readonly runId: string | undefined;
  readonly progress: ProgressReporter | undefined;
  readonly out: (text: string) => void;
  readonly metrics?: { readonly host: string; readonly port: number } | undefined;
  readonly lingerS?: number;
  /** Time the coordinator has to close on Ctrl-C, ms. */
  readonly shutdownTimeoutMs: number;
}

/** `migsim run --redis URL` (a redis:// or rediss:// URL): this process is the coordinator; `migsim worker` processes simulate the jobs. */
export async function runDistributed(opts: DistributedRunOptions): Promise<void> {
  const logger = createLogger('coordinator', 'warn');
  const coordinator = new Coordinator(
    {
      scenario: opts.scenario,
      redisUrl: opts.redisUrl,
      prefix: process.env.QUEUE_PREFIX ?? DEFAULT_PREFIX,
      runId: opts.runId,
      outDir: opts.outDir,
      metrics: opts.metrics,
      ...(opts.progress ? { onProgress: opts.progress.update } : {}),
    },
    logger,
  );
  const removeShutdown = installShutdown({
    stop: () => coordinator.close(),
    logger,
    timeoutMs: opts.shutdownTimeoutMs,
    exitCode: 130,
    onSignal: () => {
      opts.progress?.done();
      process.stderr.write(`migsim: interrupted. Finished jobs are kept in Redis under run ${coordinator.runId}; run the same command again to resume.\n`);
    },
  });
  if (opts.progress) process.stderr.write(`migsim: coordinating run ${coordinator.runId} (progress: migsim status --redis URL --run-id ${coordinator.runId})\n`);
  try {
    const r = await coordinator.run();
    opts.progress?.done();
    opts.out(formatSummaryLines(r.summary, opts.outDir));
    if (opts.metrics) process.stderr.write(`migsim: metrics on http://${opts.metrics.host}:${coordinator.metricsPort}/metrics\n`);
    if ((opts.lingerS ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, opts.lingerS! * 1000));
  } catch (e) {
    if (e instanceof RedisUnreachable) throw new CliError(`--redis: ${e.message}`);
    if (e instanceof CheckpointInvalid) throw new CliError(`--out: the results checkpoint cannot be read back: ${e.message}`);
    if (e instanceof MetricsListenError) throw new CliError(`--metrics-port: ${e.message} (choose a free port, or 0 for any)`);
    throw e;
  } finally {
    removeShutdown();
    await coordinator.close();
  }
}
