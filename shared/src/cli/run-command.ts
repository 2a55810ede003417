import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { parseDuration } from '../common/units.js';
import { runExperiment } from '../cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../cluster/fleet/embedded-transport.js';
import { DEFAULT_METRICS_HOST, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../cluster/config/service-env.js';
import { RUN_ID_PATTERN } from '../cluster/queue/queue-names.js';
import { CliError } from './cli-error.js';
import { interruptNotice } from './interrupt-notice.js';
import { redisUrlFlag } from './redis-url-flag.js';
import { numberFlag } from './flag-values.js';
import { MAX_REGION_THREADS } from '../cluster/region/region-defaults.js';
import { formatRegionSummaryLines, formatSummaryLines } from './format-summary.js';
import { progressReporter, regionProgressReporter } from './progress-reporter.js';
import { scenarioFromArg } from './scenario-arg.js';

/** Creates the output folder before the run, so that a folder that cannot be made does not cost the run's results. */
function makeOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`--out: cannot create the folder ${dir}: ${(e as Error).message}`);
  }
}

export function runCommand(out: (text: string) => void): Command {
  return new Command('run')
    .description(
      'Run a capacity-planning experiment: the coordinator simulates the fleet and sends each migration or dirty-rate probe ' +
        'as a job to the workers. Without --redis both run in this process (the embedded default). Writes summary.json, jobs.csv, jobs.ndjson and report.html; ' +
        'a scenario with a region runs its clusters side by side (--threads) into <out>/<cluster>/ and writes region-summary.json, clusters.csv and report.html; ' +
        'with --redis each cluster is a coordinator job of a BullMQ flow, run by `migsim worker --coordinators N` processes that see <out> at the same path.',
    )
    .helpOption('-h, --help', 'show this help')
    .argument('[scenario]', 'scenario file, or a bundled scenario name (quick, seed-96vcpu, rolling-upgrade-1000, probe-rebalance); default quick')
    .addOption(new Option('--out <dir>', 'output folder (default out/<scenario>-seed<N>)'))
    .addOption(new Option('--seed <n>', 'override the scenario seed'))
    .addOption(new Option('--redis <url>', 'run as coordinator against workers on this Redis (redis:// or rediss://)'))
    .addOption(new Option('--run-id <id>', 'run id (default derived from the scenario and seed; the same id resumes a run)'))
    .addOption(new Option('--threads <n>', 'a region: clusters simulated at once, each on a thread of its own (default: one per core; 0 runs them one after another in this thread)'))
    .addOption(new Option('--quiet', 'no progress output'))
    .addOption(new Option('--metrics-port <port>', 'with --redis: serve /metrics, /healthz, /readyz on this port (METRICS_PORT)'))
    .addOption(new Option('--metrics-host <host>', 'with --redis: address of the metrics server (METRICS_HOST, default 127.0.0.1)'))
    .addOption(new Option('--linger <duration>', 'with --redis: keep serving metrics this long after the run (so Prometheus scrapes the totals)'))
    .action(async (arg: string | undefined, opts: { out?: string; seed?: string; redis?: string; runId?: string; threads?: string; quiet?: boolean; metricsPort?: string; metricsHost?: string; linger?: string }) => {
      const { file: path, scenario } = scenarioFromArg(arg, opts.seed);
      if (opts.runId !== undefined && !RUN_ID_PATTERN.test(opts.runId)) throw new CliError(`--run-id: run ids are 1 to 128 letters, digits, dots, dashes or underscores (got '${opts.runId}')`);
      const outDir = opts.out ?? join('out', `${basename(path).replace(/\.ya?ml$/, '')}-seed${scenario.seed}`);
      const threads = numberFlag('--threads', opts.threads, 0, MAX_REGION_THREADS, true);
      if (threads !== undefined && !scenario.region) throw new CliError('--threads: only a scenario with a region runs clusters on threads (this scenario has one cluster)');
      if (scenario.region) {
        makeOutDir(outDir);
        const progress = opts.quiet ? undefined : regionProgressReporter();
        let summary;
        if (opts.redis) {
          if (threads !== undefined) throw new CliError('--threads: with --redis the clusters run where coordinator jobs are served (migsim worker --coordinators N)');
          const { runRegionWithRedis } = await import('./run-region-distributed.js');
          summary = await runRegionWithRedis({ scenario, outDir, redisUrl: opts.redis, runId: opts.runId, progress });
        } else {
          const { runRegion } = await import('../cluster/region/run-region.js');
          summary = await runRegion({ scenario, outDir, ...(opts.runId ? { runId: opts.runId } : {}), ...(threads === undefined ? {} : { threads }), ...(progress ? { onProgress: progress.update } : {}) });
        }
        progress?.done();
        out(formatRegionSummaryLines(summary, outDir));
        return;
      }
      const progress = opts.quiet ? undefined : progressReporter(scenario.horizon);
      if (opts.redis) {
        await redisUrlFlag(opts.redis);
        const portText = opts.metricsPort ?? process.env.METRICS_PORT;
        let metrics: { host: string; port: number } | undefined;
        if (portText !== undefined) {
          const port = Number(portText);
          if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--metrics-port: must be a port number from 0 to 65535 (got '${portText}')`);
          metrics = { host: opts.metricsHost ?? process.env.METRICS_HOST ?? DEFAULT_METRICS_HOST, port };
        }
        const lingerS = opts.linger === undefined ? 0 : parseDuration(opts.linger);
        if (lingerS === undefined) throw new CliError(`--linger: '${opts.linger}' is not a duration such as 15s`);
        makeOutDir(outDir);
        const { runDistributed } = await import('./run-distributed.js');
        await runDistributed({ scenario, outDir, redisUrl: opts.redis, runId: opts.runId, progress, out, metrics, lingerS, shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS });
        return;
      }
      makeOutDir(outDir);
      const transport = new EmbeddedTransport();
      const removeShutdown = interruptNotice({ name: 'run', progress, notice: 'interrupted; nothing was written. An embedded run starts over: run the same command again.' });
      try {
        const { summary } = await runExperiment({
          scenario,
          transport,
          outDir,
          ...(opts.runId ? { runId: opts.runId } : {}),
          ...(progress ? { onProgress: progress.update } : {}),
        });
        progress?.done();
        out(formatSummaryLines(summary, outDir));
      } finally {
        removeShutdown();
      }
    });
}
