import type { RedisClient } from '../queue/redis-connection.js';
import type { Logger } from '../../common/logger.js';
import { runExperiment, runIdFor, type ExperimentResult } from '../experiment/run-experiment.js';
import type { Progress } from '../fleet/progress.js';
import { MetricsServer } from '../observability/metrics-server.js';
import { SimulationMetrics } from '../observability/simulation-metrics.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { queueJobsGauge } from '../observability/queue-jobs-gauge.js';
import { BullmqTransport } from '../queue/bullmq-transport.js';
import { progressKey } from '../queue/queue-names.js';
import { connectOrThrow, createRedis, redactRedisUrl } from '../queue/redis-connection.js';
import type { Scenario } from '../scenario/scenario-schema.js';

export interface CoordinatorOptions {
  readonly scenario: Scenario;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly runId?: string | undefined;
  readonly outDir?: string | undefined;
  readonly onProgress?: (p: Progress) => void;
  /** Serve /metrics, /healthz, /readyz here; none when omitted. */
  readonly metrics?: { readonly host: string; readonly port: number } | undefined;
  /**
   * Record into these metrics instead of the coordinator's own registry (a load generator running many runs in
   * one process); the owner serves them and sets the progress gauges.
   */
  readonly sharedMetrics?: SimulationMetrics | undefined;
  /** Each job's wall latency from queueing to result, in seconds. */
  readonly onJobLatency?: ((seconds: number) => void) | undefined;
}

/**
 * The coordinator service: runs the fleet simulation with jobs sent through BullMQ, publishes its progress in
 * Redis, and writes the run's outputs. Finished jobs' results live in Redis, so a coordinator restarted with the
 * same scenario and seed (same run id) resumes without simulating them again.
 */
export class Coordinator {
  private transport: BullmqTransport | undefined;
  private redis: RedisClient | undefined;
  readonly runId: string;
  readonly registry = new Registry();
  readonly metrics: SimulationMetrics;
  private server: MetricsServer | undefined;
  private ready = false;

  constructor(
    private readonly opts: CoordinatorOptions,
    private readonly logger: Logger,
  ) {
    this.runId = opts.runId ?? runIdFor(opts.scenario);
    if (opts.sharedMetrics) {
      this.metrics = opts.sharedMetrics;
      return;
    }
    collectDefaultMetrics({ register: this.registry });
    this.registry.setDefaultLabels({ service: 'coordinator' });
    this.metrics = new SimulationMetrics(this.registry);
    queueJobsGauge(this.registry, () => this.transport?.queue);
  }

  /** Port the metrics server listens on (after start), or 0. */
  get metricsPort(): number {
    return this.server?.port ?? 0;
  }

  /** Starts the metrics server (if configured) before the run, so /healthz answers while connecting. */
  async startMetrics(): Promise<void> {
    const m = this.opts.metrics;
    if (!m || this.server) return;
    this.server = new MetricsServer({ host: m.host, port: m.port, registry: this.registry, ready: () => this.ready });
    await this.server.start();
    this.logger.info('metrics server listening', { host: m.host, port: this.server.port });
  }

  async run(): Promise<ExperimentResult & { jobsFromCache: number }> {
    const o = this.opts;
    await this.startMetrics();
    if (!o.sharedMetrics) this.metrics.wavesTotal.set(0);
    this.metrics.prime(o.scenario.cluster.host_classes.map((h) => h.name));
    this.redis = createRedis(o.redisUrl, { blocking: false });
    await connectOrThrow(this.redis, o.redisUrl);
    this.transport = await BullmqTransport.open({ redisUrl: o.redisUrl, prefix: o.prefix, runId: this.runId, ...(o.onJobLatency ? { onJobLatency: o.onJobLatency } : {}) });
    this.ready = true;
    this.logger.info('coordinator started', { redis: redactRedisUrl(o.redisUrl), run_id: this.runId, scenario: o.scenario.name });
    let lastWrite = 0;
    const result = await runExperiment({
      scenario: o.scenario,
      transport: this.transport,
      runId: this.runId,
      ...(o.outDir ? { outDir: o.outDir } : {}),
      onJobDone: (record, src) => this.metrics.record(record, src.className),
      onProgress: (p) => {
        o.onProgress?.(p);
        if (!o.sharedMetrics) {
          this.metrics.inFlight.set(p.jobsInFlight);
          this.metrics.wavesDone.set(p.wavesDone);
          this.metrics.wavesTotal.set(p.wavesTotal);
          this.metrics.simulatedSeconds.set(p.simulatedS);
        }
        const now = Date.now();
        if (now - lastWrite > 500) {
          lastWrite = now;
          void this.redis?.set(progressKey(o.prefix, this.runId), JSON.stringify({ ...p, at: new Date().toISOString() })).catch(() => {});
        }
      },
    });
    await this.redis.set(progressKey(o.prefix, this.runId), JSON.stringify({ done: true, digest: result.summary.digest, at: new Date().toISOString() }));
    return { ...result, jobsFromCache: this.transport.jobsFromCache };
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.transport?.close();
    this.transport = undefined;
    this.redis?.disconnect();
    await this.server?.stop();
  }
}
