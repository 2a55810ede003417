import { Command, Option } from 'commander';
import { ConfigInvalid } from '../cluster/config/errors/config-invalid.js';
import { DEFAULT_METRICS_HOST } from '../cluster/config/service-env.js';
import { RedisUnreachable } from '../cluster/queue/errors/redis-unreachable.js';
import { DEFAULT_PREFIX } from '../cluster/queue/queue-names.js';
import { MetricsListenError } from '../cluster/observability/errors/metrics-listen-error.js';
import { serveWorker } from '../cluster/worker/serve-worker.js';
import { workerOptionsFromEnv } from '../cluster/worker/worker-env.js';
import { WORKER_DEFAULTS } from '../cluster/worker/worker-options.js';
import { CliError } from './cli-error.js';

/** The flag that sets each variable of the worker's environment (flags override the environment). */
const FLAG_OF: Record<string, string> = {
  REDIS_URL: '--redis',
  WORKER_CONCURRENCY: '--concurrency',
  WORKER_COORDINATORS: '--coordinators',
  QUEUE_PREFIX: '--prefix',
  METRICS_PORT: '--metrics-port',
  METRICS_HOST: '--metrics-host',
};

interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  coordinators?: string;
  prefix?: string;
  metricsPort?: string;
  metricsHost?: string;
}

/** `migsim worker --redis URL [--concurrency N]`: a worker service in this process (flags over environment). */
export function workerCommand(): Command {
  return new Command('worker')
    .description('Serve simulation jobs from Redis (BullMQ) until SIGTERM/SIGINT. Flags override REDIS_URL, WORKER_CONCURRENCY, WORKER_COORDINATORS, QUEUE_PREFIX, METRICS_PORT, METRICS_HOST; the other settings come from the environment (docs/operations.md).')
    .helpOption('-h, --help', 'show this help')
    .addOption(new Option('--redis <url>', 'Redis URL (redis:// or rediss://, may include user:password)'))
    .addOption(new Option('--concurrency <n>', `jobs simulated at once (default ${WORKER_DEFAULTS.concurrency})`))
    .addOption(new Option('--coordinators <n>', 'also run up to N cluster coordinators at once: jobs of a region run\'s flow (WORKER_COORDINATORS, default 0)'))
    .addOption(new Option('--prefix <prefix>', `queue key prefix (default ${DEFAULT_PREFIX})`))
    .addOption(new Option('--metrics-port <port>', 'serve /metrics, /healthz, /readyz on this port (METRICS_PORT)'))
    .addOption(new Option('--metrics-host <host>', `address for the metrics server (METRICS_HOST, default ${DEFAULT_METRICS_HOST})`))
    .action(async (flags: WorkerFlags) => {
      const env = { ...process.env };
      if (flags.redis !== undefined) env.REDIS_URL = flags.redis;
      if (flags.concurrency !== undefined) env.WORKER_CONCURRENCY = flags.concurrency;
      if (flags.coordinators !== undefined) env.WORKER_COORDINATORS = flags.coordinators;
      if (flags.prefix !== undefined) env.QUEUE_PREFIX = flags.prefix;
      if (flags.metricsPort !== undefined) env.METRICS_PORT = flags.metricsPort;
      if (flags.metricsHost !== undefined) env.METRICS_HOST = flags.metricsHost;
      let options;
      try {
        options = workerOptionsFromEnv(env);
      } catch (e) {
        if (!(e instanceof ConfigInvalid)) throw e;
        throw new CliError(e.issues.map((i) => `${FLAG_OF[i.key] ? `${FLAG_OF[i.key]} / ${i.key}` : i.key}: ${i.message}`).join('\n'));
      }
      try {
        await serveWorker(options);
      } catch (e) {
        if (e instanceof RedisUnreachable) throw new CliError(`--redis: ${e.message}`);
        if (e instanceof MetricsListenError) throw new CliError(`--metrics-port: ${e.message}`);
        throw e;
      }
      // Serve until a signal stops the process (serveWorker installed its handler).
      await new Promise<never>(() => {});
    });
}
