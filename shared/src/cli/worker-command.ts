import { Command, Option } from 'commander';
import { parseWorkerConfig } from '../cluster/worker/worker-env.js';
import { CliError } from './cli-error.js';

/** `migsim worker --redis URL [--concurrency N]`: a worker service in this process (flags over environment). */
export function workerCommand(): Command {
  return new Command('worker')
    .description('Serve simulation jobs from Redis (BullMQ) until SIGTERM/SIGINT. Flags override REDIS_URL, WORKER_CONCURRENCY, QUEUE_PREFIX.')
    .helpOption('-h, --help', 'show this help')
    .addOption(new Option('--redis <url>', 'Redis URL (redis:// or rediss://, may include user:password)'))
    .addOption(new Option('--concurrency <n>', 'jobs simulated at once (default 2)'))
    .addOption(new Option('--prefix <prefix>', 'queue key prefix (default {migsim})'))
    .addOption(new Option('--metrics-port <port>', 'serve /metrics, /healthz, /readyz on this port (METRICS_PORT)'))
    .addOption(new Option('--metrics-host <host>', 'address for the metrics server (METRICS_HOST, default 127.0.0.1)'))
    .action(async (opts: { redis?: string; concurrency?: string; prefix?: string; metricsPort?: string; metricsHost?: string }) => {
      const env = { ...process.env };
      if (opts.redis !== undefined) env.REDIS_URL = opts.redis;
      if (opts.concurrency !== undefined) env.WORKER_CONCURRENCY = opts.concurrency;
      if (opts.prefix !== undefined) env.QUEUE_PREFIX = opts.prefix;
      if (opts.metricsPort !== undefined) env.METRICS_PORT = opts.metricsPort;
      if (opts.metricsHost !== undefined) env.METRICS_HOST = opts.metricsHost;
      let config;
      try {
        config = parseWorkerConfig(env);
      } catch (e) {
        throw new CliError((e as Error).message.replace(/REDIS_URL/g, '--redis / REDIS_URL').replace(/WORKER_CONCURRENCY/g, '--concurrency / WORKER_CONCURRENCY').replace(/METRICS_PORT/g, '--metrics-port / METRICS_PORT'));
      }
      const { runWorker } = await import('../../../services/worker/src/main.js');
      try {
        await runWorker(config);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      // Serve until a signal stops the process.
      await new Promise<never>(() => {});
    });
}
