import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { prometheusYaml } from '../../dashboards/src/prometheus-config.js';
import type { LoadgenReport } from '../../shared/src/cluster/loadgen/load-report.js';
import { DISABLE_STRATEGIES } from '../../shared/src/kernel/mmu/disable-strategy.js';
import { runExperiment } from '../../shared/src/cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../../shared/src/cluster/fleet/embedded-transport.js';
import { loadExperimentScenario } from '../../shared/src/cluster/experiment/load-experiment-scenario.js';
import { sizeScenario } from '../../shared/src/cluster/loadgen/size-scenario.js';
import { DEFAULT_PREFIX } from '../../shared/src/cluster/queue/queue-names.js';
import { CliError } from '../../shared/src/cli/cli-error.js';
import { ScenarioInvalid, ScenarioNotFound } from '../../shared/src/cluster/scenario/errors/index.js';
import type { Scenario } from '../../shared/src/cluster/scenario/scenario-schema.js';
import { readCompose } from './compose-env.js';
import { formatLoadtestMarkdown, type LoadtestReport, type TotalsCheck } from './loadtest-report.js';
import { sleep, until } from '../helpers/cluster.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { peakRssBytes, promScalar, queueBookkeeping, startLogged, stop } from './local-processes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPOSE = join(ROOT, 'deploy', 'docker-compose.yml');
const ENV_FILE = join(ROOT, 'deploy', '.env.example');

const optionsSchema = z.object({
  workers: z.coerce.number().int().min(1).max(64).default(2),
  migrations: z.coerce.number().int().min(1).max(10_000_000).default(5000),
  runs: z.coerce.number().int().min(1).max(10_000).default(1),
  interval: z.coerce.number().min(0).max(86_400).default(0),
  duration: z.coerce.number().positive().max(86_400).optional(),
  concurrency: z.coerce.number().int().min(1).max(256).optional(),
  maxActive: z.coerce.number().int().min(0).max(10_000).default(0),
  scenario: z.string().min(1).optional(),
  out: z.string().min(1).default('out/loadtest'),
  keep: z.boolean().default(false),
});
type Options = z.output<typeof optionsSchema>;

function parseOptions(argv: string[]): Options {
  const cmd = new Command('loadtest')
    .description(
      'Runs the docker compose topology as local processes (Redis with the compose arguments, N workers and the load generator with the compose environment, Prometheus with the generated configuration), drives the load, and writes loadtest.json and loadtest.md.',
    )
    .addOption(new Option('--workers <n>', 'worker processes').default('2'))
    .addOption(new Option('--migrations <m>', 'VMs to evacuate per run (about one migration each)').default('5000'))
    .addOption(new Option('--runs <k>', 'runs submitted').default('1'))
    .addOption(new Option('--interval <s>', 'seconds between run submissions').default('0'))
    .addOption(new Option('--duration <s>', 'keep submitting a run every --interval seconds for this long (instead of --runs)'))
    .addOption(new Option('--max-active <n>', 'at most this many runs in progress at once (0: no limit)').default('0'))
    .addOption(new Option('--concurrency <c>', 'jobs per worker (default: the compose file\u2019s WORKER_CONCURRENCY)'))
    .addOption(new Option('--scenario <name>', 'template scenario (default: the compose file\u2019s LOAD_SCENARIO)'))
    .addOption(new Option('--out <dir>', 'where loadtest.json, loadtest.md and the logs go').default('out/loadtest'))
    .addOption(new Option('--keep', 'keep the temporary Redis and Prometheus data'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  cmd.parse(argv, { from: 'user' });
  const r = optionsSchema.safeParse(cmd.opts());
  if (!r.success) {
    const flag = (path: readonly PropertyKey[]) => `--${path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(r.error.issues.map((i) => `${flag(i.path)}: ${i.message}`).join('\n'));
  }
  if (r.data.duration !== undefined && r.data.interval <= 0) throw new UsageError('--duration needs --interval > 0 (seconds between runs)');
  return r.data;
}

class UsageError extends Error {}

const log = (msg: string) => process.stderr.write(`loadtest: ${msg}\n`);
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

/** The compose file's Redis arguments (persistence, memory) without those the local server sets itself. */
function redisArgs(command: readonly string[]): string[] {
  const args = command[0] === 'redis-server' ? command.slice(1) : [...command];
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (['--port', '--bind', '--dir', '--requirepass'].includes(args[i]!)) {
      i++;
      continue;
    }
    out.push(args[i]!);
  }
  return out;
}

/** The compose environment of a service, pointed at the local Redis and a local metrics port. */
function localEnv(env: Record<string, string>, redisUrl: string, metricsPort: number, extra: Record<string, string> = {}): Record<string, string> {
  return { ...env, REDIS_URL: redisUrl, METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1', ...extra };
}

async function main(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`loadtest: ${e.message}\n`);
      return 2;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version') return 0;
    return 2;
  }
  const compose = readCompose(COMPOSE, ENV_FILE);
  const need = (name: string) => {
    const s = compose[name];
    if (!s) throw new Error(`${COMPOSE} has no '${name}' service`);
    return s;
  };
  const redisSvc = need('redis');
  const workerSvc = need('worker');
  const loadgenSvc = need('loadgen');
  const loadEnv0 = loadgenSvc.environment;
  // The flags that name files, checked before anything starts.
  const outDir = resolve(o.out);
  let template: Scenario;
  try {
    template = loadExperimentScenario(o.scenario ?? loadEnv0.LOAD_SCENARIO ?? 'rolling-upgrade-1000').scenario;
    try {
      mkdirSync(outDir, { recursive: true });
    } catch (e) {
      throw new CliError(`--out: cannot create ${outDir}: ${(e as Error).message}`);
    }
  } catch (e) {
    if (!(e instanceof CliError || e instanceof ScenarioInvalid || e instanceof ScenarioNotFound)) throw e;
    process.stderr.write(`loadtest: ${e.message}\n`);
    return 2;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'migsim-loadtest-'));
  const procs: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(procs.splice(0).reverse().map((p) => stop(p)));
  };
  process.once('SIGINT', () => {
    void stopAll().finally(() => process.exit(130));
  });

  try {
    // Baseline, measured in this invocation: the first run's fleet in one process, no queues.
    const seed0 = Number(loadEnv0.LOAD_SEED ?? 1);
    const tb = performance.now();
    const embedded = (await runExperiment({ scenario: sizeScenario(template, o.migrations, seed0), transport: new EmbeddedTransport() })).summary;
    const embeddedJobsPerS = embedded.jobs / ((performance.now() - tb) / 1e3);
    log(`baseline: one run embedded (one process, no queues): ${embedded.jobs} jobs at ${embeddedJobsPerS.toFixed(0)} jobs/s`);

    // Redis, as compose runs it.
    const redisDir = join(tmp, 'redis');
    mkdirSync(redisDir);
    const password = /--requirepass\s+(\S+)/.exec(redisSvc.command.join(' '))?.[1];
    const args = redisArgs(redisSvc.command);
    const redis = await startRedisServer({ dir: redisDir, args: [...args, '--logfile', join(outDir, 'redis.log')], ...(password ? { password } : {}) });
    procs.push(redis.proc);
    const redisUrl = redis.url;
    log(`redis on 127.0.0.1:${redis.port} (${args.join(' ')}${password ? ' --requirepass ***' : ''})`);

    // Workers, with the compose environment.
    const workerPorts: number[] = [];
    const workers: ChildProcess[] = [];
    for (let i = 0; i < o.workers; i++) {
      const port = await freePort();
      workerPorts.push(port);
      const env = localEnv(workerSvc.environment, redisUrl, port, o.concurrency ? { WORKER_CONCURRENCY: String(o.concurrency) } : {});
      const p = startLogged(process.execPath, [join(ROOT, 'services/worker/bin/worker.mjs')], env, join(outDir, `worker-${i}.log`));
      workers.push(p);
      procs.push(p);
    }
    for (const port of workerPorts) await until(`worker on :${port} ready`, 30_000, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
    const concurrency = Number(o.concurrency ?? workerSvc.environment.WORKER_CONCURRENCY ?? 2);
    log(`${o.workers} worker(s) ready, concurrency ${concurrency}`);

    // Prometheus, with the generated configuration (static targets instead of compose DNS).
    const loadgenPort = await freePort();
    const promPort = await freePort();
    const promConfig = join(tmp, 'prometheus.yml');
    writeFileSync(promConfig, prometheusYaml({ kind: 'static', coordinator: [], workers: workerPorts.map((p) => `127.0.0.1:${p}`), loadgen: [`127.0.0.1:${loadgenPort}`], scrapeInterval: '2s' }));
    const promBase = `http://127.0.0.1:${promPort}`;
    let prometheus = false;
    if (existsSync('/usr/bin/prometheus')) {
      procs.push(startLogged('prometheus', [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(tmp, 'prometheus')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], {}, join(outDir, 'prometheus.log')));
      await until('prometheus ready', 30_000, async () => (await fetch(`${promBase}/-/ready`)).ok);
      prometheus = true;
      log(`prometheus on ${promBase}`);
    } else {
      log('prometheus not installed (Debian package prometheus): totals are not checked');
    }

    // The load generator, with the compose environment.
    const loadOut = join(outDir, 'loadgen');
    rmSync(join(loadOut, 'loadgen.json'), { force: true });
    const loadEnv = localEnv(loadgenSvc.environment, redisUrl, loadgenPort, {
      LOAD_MIGRATIONS: String(o.migrations),
      LOAD_RUNS: String(o.runs),
      LOAD_INTERVAL_S: String(o.interval),
      LOAD_MAX_ACTIVE_RUNS: String(o.maxActive),
      ...(o.duration !== undefined ? { LOAD_DURATION_S: String(o.duration) } : {}),
      ...(o.scenario ? { LOAD_SCENARIO: o.scenario } : {}),
      OUT_DIR: loadOut,
      LINGER_SECONDS: '600',
    });
    if (o.duration === undefined) delete loadEnv.LOAD_DURATION_S;
    const loadgen = startLogged(process.execPath, [join(ROOT, 'services/loadgen/bin/loadgen.mjs')], loadEnv, join(outDir, 'loadgen.log'));
    procs.push(loadgen);
    const t0 = Date.now();
    log(`load: ${o.duration !== undefined ? `a run every ${o.interval} s for ${o.duration} s` : `${o.runs} run(s)`} of ~${o.migrations} VMs (${loadEnv.LOAD_SCENARIO}); logs in ${outDir}`);
    let exited: number | null = null;
    loadgen.once('exit', (code) => (exited = code ?? 1));
    let lastLog = 0;
    // Redis memory over the load: bounded means the second half's peak is no higher than the first half's.
    const memory: { t: number; bytes: number }[] = [];
    const sampler = setInterval(() => {
      void redis
        .info('memory')
        .then((m) => memory.push({ t: Date.now() - t0, bytes: Number(m.used_memory) }))
        .catch(() => {});
    }, 500);
    while (!existsSync(join(loadOut, 'loadgen.json'))) {
      if (exited !== null) throw new Error(`the load generator exited with code ${exited}; see ${join(outDir, 'loadgen.log')}`);
      if (Date.now() - lastLog > 5000 && prometheus) {
        lastLog = Date.now();
        const done = await promScalar(promBase, 'sum(migsim_worker_jobs_total{result="completed"})').catch((e: Error) => e.message);
        const queued = await promScalar(promBase, 'sum(migsim_queue_jobs{state=~"waiting|active"})').catch((e: Error) => e.message);
        const up = await promScalar(promBase, 'sum(up)').catch((e: Error) => e.message);
        log(`${Math.round((Date.now() - t0) / 1000)} s: ${done} jobs simulated, ${queued} queued or active (${up} targets up)`);
      }
      await sleep(250);
    }
    clearInterval(sampler);
    const report = JSON.parse(readFileSync(join(loadOut, 'loadgen.json'), 'utf8')) as LoadgenReport;
    log(`load done: ${report.migrations} migrations, ${report.jobs} jobs in ${report.wall_s.toFixed(1)} s`);

    // Prometheus' totals against the runs' summaries.
    const checks: TotalsCheck[] = [];
    if (prometheus) {
      const wanted: [string, number][] = [
        ['sum(migsim_migrations_total{job="migsim-loadgen"})', report.migrations],
        ['sum(migsim_dirty_rate_probes_total{job="migsim-loadgen"}) or vector(0)', report.probes],
        ['sum(migsim_worker_jobs_total{result="completed"})', report.jobs],
        ...DISABLE_STRATEGIES.flatMap((s): [string, number][] => [
          // MMU work only: every host CPU component but the migration thread.
          [`sum(migsim_host_cpu_seconds_total{job="migsim-loadgen",strategy="${s}",component!="migration_thread"})`, report.strategies[s].host_cpu_s],
          [`sum(migsim_vcpu_stall_seconds_total{job="migsim-loadgen",strategy="${s}"})`, report.strategies[s].vcpu_stall_s],
          [`sum(migsim_dirty_log_disable_seconds_total{job="migsim-loadgen",strategy="${s}"})`, report.strategies[s].disable_s],
          [`sum(migsim_remote_tlb_flushes_total{job="migsim-loadgen",strategy="${s}"})`, report.strategies[s].tlb_flushes],
        ]),
      ];
      const evaluate = async () => {
        checks.length = 0;
        for (const [expr, runs] of wanted) {
          const p = await promScalar(promBase, expr).catch(() => Number.NaN);
          checks.push({ expr, prometheus: p, runs, match: close(p, runs) });
        }
        return checks.every((c) => c.match);
      };
      await until('Prometheus to scrape the final totals', 60_000, evaluate).catch(() => {});
    }

    const info = await redis.info('memory');
    const prefix = loadEnv.QUEUE_PREFIX ?? DEFAULT_PREFIX;
    const bookkeeping = await queueBookkeeping(redisUrl, prefix);
    const half = (Date.now() - t0) / 2;
    const peakOf = (xs: { bytes: number }[]) => xs.reduce((m, x) => Math.max(m, x.bytes), 0);
    const stats = await redis.info('stats');
    const workerPeak = workers.map((p) => peakRssBytes(p.pid) ?? 0);
    const out: LoadtestReport = {
      command: `npm run loadtest -- ${argv.join(' ')}`.trim(),
      machine: { cpus: cpus().length, node: process.version },
      config: { workers: o.workers, worker_concurrency: concurrency, vms_per_run: o.migrations, runs: report.runs.length, interval_s: o.interval, duration_s: o.duration ?? null, max_active_runs: o.maxActive, scenario: report.scenario },
      load_id: report.load_id,
      wall_s: report.wall_s,
      failed_runs: report.runs.filter((r) => !r.ok).length,
      migrations: report.migrations,
      jobs: report.jobs,
      migrations_per_s: report.migrations_per_s,
      jobs_per_s: report.jobs_per_s,
      baseline_embedded_jobs_per_s: embeddedJobsPerS,
      job_latency_s: { p50: report.job_latency_s.p50, p99: report.job_latency_s.p99, max: report.job_latency_s.max },
      redis: {
        peak_memory_bytes: Number(info.used_memory_peak),
        memory_at_end_bytes: Number(info.used_memory),
        peak_first_half_bytes: peakOf(memory.filter((m) => m.t < half)),
        peak_second_half_bytes: peakOf(memory.filter((m) => m.t >= half)),
        commands_processed: Number(stats.total_commands_processed),
        ...bookkeeping,
      },
      worker_peak_rss_bytes: workerPeak,
      loadgen_peak_rss_bytes: peakRssBytes(loadgen.pid) ?? 0,
      prometheus: { checked: prometheus, totals_match: prometheus && checks.length > 0 && checks.every((c) => c.match), checks },
    };
    writeFileSync(join(outDir, 'loadtest.json'), `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(join(outDir, 'loadtest.md'), formatLoadtestMarkdown(out));
    log(`wrote ${join(outDir, 'loadtest.json')} and loadtest.md`);
    await stopAll();
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return out.failed_runs === 0 && (!prometheus || out.prometheus.totals_match) ? 0 : 1;
  } finally {
    await stopAll();
    if (!o.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`loadtest: ${e.message}\n`);
    process.exit(1);
  },
);
