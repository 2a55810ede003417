import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { parseDuration } from '../common/units.js';
import { runExperiment } from '../cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../cluster/fleet/embedded-transport.js';
import type { Progress } from '../cluster/fleet/progress.js';
import { scenarioFromArg } from './scenario-arg.js';
import type { Scenario } from '../cluster/scenario/scenario-schema.js';
import { CliError } from './cli-error.js';
import { formatSummaryLines } from './format-summary.js';


/** @deprecated kept for the services until they load scenarios themselves. */
export function scenarioPath(arg: string | undefined): string {
  return arg ?? 'quick';
}

/** @deprecated see scenarioPath. */
export function loadScenarioOrExit(arg: string, seed: string | undefined): Scenario {
  return scenarioFromArg(arg, seed).scenario;
}

/** A progress line: a bar on a terminal, a plain line per 10 % otherwise. */
export function progressReporter(horizonS: number, stream: NodeJS.WriteStream = process.stderr): { update: (p: Progress) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let lastPct = -1;
  let lastDraw = 0;
  return {
    update(p) {
      const frac = p.wavesTotal > 0 ? p.wavesDone / p.wavesTotal : Math.min(1, p.simulatedS / horizonS);
      const pct = Math.floor(frac * 100);
      const text = `${p.wavesTotal > 0 ? `waves ${p.wavesDone}/${p.wavesTotal}` : `${pct}%`}, ${p.jobsDone}/${p.jobsSubmitted} jobs, simulated ${(p.simulatedS / 3600).toFixed(2)} h`;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && pct === lastPct) return;
        lastDraw = now;
        const width = 30;
        const fill = Math.round(frac * width);
        stream.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}   `);
      } else if (pct >= lastPct + 10 || (lastPct < 0 && pct >= 0)) {
        stream.write(`progress: ${text}\n`);
      }
      lastPct = pct;
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

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
        'as a job to the workers. Without --redis both run in this process (the embedded default). Writes summary.json, jobs.csv and report.html.',
    )
    .helpOption('-h, --help', 'show this help')
    .argument('[scenario]', 'scenario file, or a bundled scenario name (quick, seed-96vcpu, rolling-upgrade-1000, probe-rebalance); default quick')
    .addOption(new Option('--out <dir>', 'output folder (default out/<scenario>-seed<N>)'))
    .addOption(new Option('--seed <n>', 'override the scenario seed'))
    .addOption(new Option('--redis <url>', 'run as coordinator against workers on this Redis (redis:// or rediss://)'))
    .addOption(new Option('--run-id <id>', 'run id (default derived from the scenario and seed; the same id resumes a run)'))
    .addOption(new Option('--quiet', 'no progress output'))
    .addOption(new Option('--metrics-port <port>', 'with --redis: serve /metrics, /healthz, /readyz on this port (METRICS_PORT)'))
    .addOption(new Option('--metrics-host <host>', 'with --redis: address of the metrics server (METRICS_HOST, default 127.0.0.1)'))
    .addOption(new Option('--linger <duration>', 'with --redis: keep serving metrics this long after the run (so Prometheus scrapes the totals)'))
    .action(async (arg: string | undefined, opts: { out?: string; seed?: string; redis?: string; runId?: string; quiet?: boolean; metricsPort?: string; metricsHost?: string; linger?: string }) => {
      const { file: path, scenario } = scenarioFromArg(arg, opts.seed);
      const outDir = opts.out ?? join('out', `${basename(path).replace(/\.ya?ml$/, '')}-seed${scenario.seed}`);
      const progress = opts.quiet ? undefined : progressReporter(scenario.horizon);
      if (opts.redis) {
        const { redactRedisUrl, redisUrlSchema } = await import('../cluster/queue/redis-connection.js');
        const url = redisUrlSchema.safeParse(opts.redis);
        if (!url.success) throw new CliError(`--redis: ${url.error.issues[0]?.message ?? 'not a Redis URL'} (got '${redactRedisUrl(opts.redis)}')`);
        const portText = opts.metricsPort ?? process.env.METRICS_PORT;
        let metrics: { host: string; port: number } | undefined;
        if (portText !== undefined) {
          const port = Number(portText);
          if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--metrics-port: must be a port number from 0 to 65535 (got '${portText}')`);
          metrics = { host: opts.metricsHost ?? process.env.METRICS_HOST ?? '127.0.0.1', port };
        }
        const lingerS = opts.linger === undefined ? 0 : parseDuration(opts.linger);
        if (lingerS === undefined) throw new CliError(`--linger: '${opts.linger}' is not a duration such as 15s`);
        makeOutDir(outDir);
        const { runDistributed } = await import('./run-distributed.js');
        await runDistributed({ scenario, outDir, redisUrl: opts.redis, runId: opts.runId, progress, out, metrics, lingerS });
        return;
      }
      makeOutDir(outDir);
      const transport = new EmbeddedTransport();
      const stop = () => {
        progress?.done();
        process.stderr.write('migsim: interrupted; nothing was written. An embedded run starts over: run the same command again.\n');
        process.exit(130);
      };
      process.once('SIGINT', stop);
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
        process.removeListener('SIGINT', stop);
      }
    });
}

export function validateCommand(out: (text: string) => void): Command {
  return new Command('validate')
    .description('Check a scenario file; every problem is reported with its YAML path and line (exit 2).')
    .helpOption('-h, --help', 'show this help')
    .argument('<file>', 'scenario file')
    .action((file: string) => {
      const s = loadScenarioOrExit(file, undefined);
      out(`${file}: ok (${s.name}, seed ${s.seed})`);
    });
}
