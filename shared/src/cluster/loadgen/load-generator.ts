import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import { ConfigInvalid } from '../config/errors/config-invalid.js';
import type { Progress } from '../fleet/progress.js';
import { loadgenReport, type LoadgenReport, type LoadRun } from './load-report.js';
import { sizeScenario } from './size-scenario.js';
import { LoadgenMetrics } from '../observability/loadgen-metrics.js';
import { MetricsServer } from '../observability/metrics-server.js';
import { queueJobsGauge } from '../observability/queue-jobs-gauge.js';
import { SimulationMetrics } from '../observability/simulation-metrics.js';
import { openJobsQueue, type JobsQueue } from '../queue/bullmq-transport.js';
import { failuresKey, progressKey, resultsKey } from '../queue/queue-names.js';
import { connectOrThrow, createRedis, redactRedisUrl, type RedisClient } from '../queue/redis-connection.js';
import type { RunSummary } from '../report/run-summary.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { Coordinator } from '../coordinator/coordinator.js';
import type { LoadgenConfig } from './loadgen-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often the load generator logs its progress, ms. */
export const LOADGEN_PROGRESS_LOG_MS = 5000;

/** Most runs a duration-bound schedule submits (a guard against a tiny LOAD_INTERVAL_S). */
export const MAX_SCHEDULED_RUNS = 100_000;

/** When each run is submitted, in seconds after the start. */
export function runSchedule(c: Pick<LoadgenConfig, 'LOAD_RUNS' | 'LOAD_INTERVAL_S' | 'LOAD_DURATION_S'>): number[] {
  if (c.LOAD_DURATION_S === undefined) return Array.from({ length: c.LOAD_RUNS }, (_, i) => i * c.LOAD_INTERVAL_S);
  const out: number[] = [];
  for (let t = 0; t < c.LOAD_DURATION_S && out.length < MAX_SCHEDULED_RUNS; t += c.LOAD_INTERVAL_S) out.push(t);
  return out;
}

/** A counting semaphore that admits waiters in order of their index (so runs start in schedule order). */
class Slots {
  private active = 0;
  private readonly waiting: { i: number; go: () => void }[] = [];

  constructor(private readonly max: number) {}

  take(i: number): Promise<void> {
    if (this.max <= 0 || this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((go) => {
      this.waiting.push({ i, go });
      this.waiting.sort((a, b) => a.i - b.i);
    });
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next.go();
    else this.active--;
  }
}

/**
 * The load generator: submits capacity-planning runs (fleets resized from a template) to the workers through the
 * queues, on a schedule, each run coordinated in this process. Records every job in one set of simulation
 * metrics, so Prometheus' totals are the sums of the runs' summary.json totals; writes loadgen.json.
 */
export class LoadGenerator {
  readonly registry = new Registry();
  readonly simulation: SimulationMetrics;
  readonly load: LoadgenMetrics;
  readonly loadId: string;
  private server: MetricsServer | undefined;
  private redis: RedisClient | undefined;
  private jobs: JobsQueue | undefined;
  private readonly coordinators = new Set<Coordinator>();
  private readonly progress = new Map<string, Progress>();
  private stopped = false;
  private closing: Promise<void> | undefined;
  private ready = false;

  constructor(
    private readonly config: LoadgenConfig,
    private readonly template: Scenario,
    private readonly logger: Logger,
  ) {
    this.loadId = config.LOAD_ID ?? `load-${Date.now().toString(36)}`;
    collectDefaultMetrics({ register: this.registry });
    this.registry.setDefaultLabels({ service: 'loadgen' });
    this.simulation = new SimulationMetrics(this.registry);
    this.load = new LoadgenMetrics(this.registry);
    queueJobsGauge(this.registry, () => this.jobs?.queue);
  }

  async run(): Promise<LoadgenReport> {
    const c = this.config;
    // Before any work: an unusable OUT_DIR would otherwise only show when the report is written, at the end.
    try {
      mkdirSync(c.OUT_DIR, { recursive: true });
    } catch (e) {
      throw new ConfigInvalid([{ key: 'OUT_DIR', message: `cannot create ${c.OUT_DIR}: ${(e as Error).message}` }]);
    }
    if (c.METRICS_PORT !== undefined) {
      this.server = new MetricsServer({ host: c.METRICS_HOST, port: c.METRICS_PORT, registry: this.registry, ready: () => this.ready });
      await this.server.start();
    }
    this.redis = createRedis(c.REDIS_URL, { blocking: false, connectTimeoutMs: c.REDIS_CONNECT_TIMEOUT_MS });
    await connectOrThrow(this.redis, c.REDIS_URL, c.REDIS_CONNECT_TIMEOUT_MS);
    this.jobs = await openJobsQueue(c.REDIS_URL, c.QUEUE_PREFIX, c.REDIS_CONNECT_TIMEOUT_MS);
    this.ready = true;
    const schedule = runSchedule(c);
    this.logger.info('load generator started', { redis: redactRedisUrl(c.REDIS_URL), load_id: this.loadId, runs: schedule.length, vms_per_run: c.LOAD_MIGRATIONS, scenario: this.template.name });

    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1e3;
    const runs: LoadRun[] = [];
    const summaries: RunSummary[] = [];
    const latencies: number[] = [];
    const ticker = setInterval(() => this.logProgress(elapsed()), LOADGEN_PROGRESS_LOG_MS);
    try {
      const slots = new Slots(c.LOAD_MAX_ACTIVE_RUNS);
      const pending = schedule.map(async (at, i) => {
        await sleep(Math.max(0, at - elapsed()) * 1000);
        await slots.take(i);
        if (this.stopped) return slots.give();
        const r = await this.oneRun(i, elapsed, (s) => {
          latencies.push(s);
          this.load.jobLatency.observe(s);
        });
        slots.give();
        runs.push(r.run);
        if (r.summary) summaries.push(r.summary);
      });
      await Promise.all(pending);
    } finally {
      clearInterval(ticker);
    }
    runs.sort((a, b) => (a.run_id < b.run_id ? -1 : 1));
    const report = loadgenReport({ loadId: this.loadId, scenario: this.template.name, vmsPerRun: c.LOAD_MIGRATIONS, runs, summaries, latenciesS: latencies, wallS: elapsed() });
    writeFileSync(join(c.OUT_DIR, 'loadgen.json'), `${JSON.stringify(report, null, 2)}\n`);
    this.logger.info('load generator finished', {
      runs: runs.length,
      failed_runs: runs.filter((r) => !r.ok).length,
      migrations: report.migrations,
      jobs: report.jobs,
      migrations_per_s: Number(report.migrations_per_s.toFixed(1)),
      jobs_per_s: Number(report.jobs_per_s.toFixed(1)),
      report: join(c.OUT_DIR, 'loadgen.json'),
    });
    return report;
  }

  private async oneRun(i: number, elapsed: () => number, onLatency: (s: number) => void): Promise<{ run: LoadRun; summary?: RunSummary }> {
    const c = this.config;
    const seed = c.LOAD_SEED + i;
    const scenario = sizeScenario(this.template, c.LOAD_MIGRATIONS, seed);
    const runId = `${this.loadId}-${String(i).padStart(4, '0')}`;
    const submitted = elapsed();
    this.load.runs.inc({ state: 'submitted' });
    const coordinator = new Coordinator(
      {
        scenario,
        redisUrl: c.REDIS_URL,
        prefix: c.QUEUE_PREFIX,
        connectTimeoutMs: c.REDIS_CONNECT_TIMEOUT_MS,
        runId,
        outDir: join(c.OUT_DIR, runId),
        sharedMetrics: this.simulation,
        onJobLatency: onLatency,
        onProgress: (p) => {
          this.progress.set(runId, p);
          this.updateGauges();
        },
      },
      this.logger,
    );
    this.coordinators.add(coordinator);
    const hosts = scenario.cluster.host_classes.reduce((n, h) => n + h.count, 0);
    const vms = scenario.vms.per_host !== undefined ? hosts * scenario.vms.per_host : (scenario.vms.total ?? 0);
    try {
      const r = await coordinator.run();
      this.load.runs.inc({ state: 'finished' });
      const s = r.summary;
      this.logger.info('run finished', { run_id: runId, migrations: s.migrations.total, jobs: s.jobs, wall_s: Number(s.wall_s.toFixed(2)) });
      return { run: { run_id: runId, seed, vms, submitted_at_s: submitted, finished_at_s: elapsed(), ok: true, migrations: s.migrations.total, probes: s.probes, jobs: s.jobs, digest: s.digest }, summary: s };
    } catch (e) {
      this.load.runs.inc({ state: 'failed' });
      this.logger.error('run failed', { run_id: runId, error: (e as Error).message });
      return { run: { run_id: runId, seed, vms, submitted_at_s: submitted, finished_at_s: elapsed(), ok: false, error: (e as Error).message, migrations: 0, probes: 0, jobs: 0 } };
    } finally {
      this.coordinators.delete(coordinator);
      this.progress.delete(runId);
      this.updateGauges();
      await coordinator.close();
      if (!c.LOAD_KEEP_RESULTS) await this.redis?.del(resultsKey(c.QUEUE_PREFIX, runId), failuresKey(c.QUEUE_PREFIX, runId), progressKey(c.QUEUE_PREFIX, runId)).catch(() => 0);
    }
  }

  /** The progress gauges sum over the runs in progress. */
  private updateGauges(): void {
    let inFlight = 0;
    let done = 0;
    let total = 0;
    for (const p of this.progress.values()) {
      inFlight += p.jobsInFlight;
      done += p.wavesDone;
      total += p.wavesTotal;
    }
    this.simulation.inFlight.set(inFlight);
    this.simulation.wavesDone.set(done);
    this.simulation.wavesTotal.set(total);
  }

  private logProgress(elapsedS: number): void {
    let jobsDone = 0;
    let jobsSubmitted = 0;
    for (const p of this.progress.values()) {
      jobsDone += p.jobsDone;
      jobsSubmitted += p.jobsSubmitted;
    }
    this.logger.info('progress', { elapsed_s: Math.round(elapsedS), runs_in_progress: this.progress.size, jobs_done: jobsDone, jobs_submitted: jobsSubmitted });
  }

  /** Stops submitting, closes the runs in progress (their results stay in Redis), then the queue and server; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      this.ready = false;
      for (const step of [
        async () => {
          await Promise.all([...this.coordinators].map((c) => c.close()));
        },
        async () => this.jobs?.close(),
        async () => {
          this.redis?.disconnect();
        },
        async () => this.server?.stop(),
      ]) {
        try {
          await step();
        } catch (e) {
          this.logger.warn('error while closing', { error: (e as Error).message });
        }
      }
    })();
    return this.closing;
  }
}
