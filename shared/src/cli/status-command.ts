import { Command, Option } from 'commander';
import { DEFAULT_PREFIX, progressKey, resultsKey } from '../cluster/queue/queue-names.js';
import { connectOrThrow, createRedis, type RedisClient } from '../cluster/queue/redis-connection.js';
import { CliError } from './cli-error.js';

/** `migsim status --redis URL --run-id ID`: a distributed run's progress, as its coordinator publishes it. */
export function statusCommand(out: (text: string) => void): Command {
  return new Command('status')
    .description(
      "Show a distributed run's progress (published by its coordinator in Redis: jobs done, waves, simulated time; done and digest at the end) " +
        'and how many results wait in Redis (a coordinator with an output folder checkpoints results there and trims them from Redis as it takes them in).',
    )
    .helpOption('-h, --help', 'show this help')
    .requiredOption('--redis <url>', 'Redis URL')
    .requiredOption('--run-id <id>', 'run id (printed by migsim run, or derived from the scenario)')
    .addOption(new Option('--prefix <prefix>', 'queue key prefix').default(process.env.QUEUE_PREFIX ?? DEFAULT_PREFIX))
    .action(async (opts: { redis: string; runId: string; prefix: string }) => {
      let r: RedisClient;
      try {
        r = createRedis(opts.redis, { blocking: false });
        await connectOrThrow(r, opts.redis);
      } catch (e) {
        throw new CliError(`--redis: ${(e as Error).message}`);
      }
      try {
        const [progress, results] = await Promise.all([r.get(progressKey(opts.prefix, opts.runId)), r.hlen(resultsKey(opts.prefix, opts.runId))]);
        if (progress === null && results === 0) throw new CliError(`--run-id: no run ${opts.runId} under prefix ${opts.prefix}`);
        out(JSON.stringify({ run_id: opts.runId, results_in_redis: results, progress: progress === null ? null : JSON.parse(progress) }, null, 2));
      } finally {
        r.disconnect();
      }
    });
}
