import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import { runExperiment, runIdFor, type ExperimentResult } from '../experiment/run-experiment.js';
import { MetricsServer } from '../observability/metrics-server.js';
import { queueJobsGauge } from '../observability/queue-jobs-gauge.js';
import { SimulationMetrics } from '../observability/simulation-metrics.js';
import { BullmqTransport } from '../queue/bullmq-transport.js';
import { REDIS_CONNECT_TIMEOUT_MS } from '../queue/queue-defaults.js';
import { DEFAULT_PREFIX, progressKey, resultsKey } from '../queue/queue-names.js';
import { connectOrThrow, createRedis, redactRedisUrl, type RedisClient } from '../queue/redis-connection.js';
import { checkpointResults, openRunCheckpoint } from './checkpointed-transport.js';
import type { ResultsCheckpoint } from './results-checkpoint.js';
import { COORDINATOR_DEFAULTS, type CoordinatorOptions } from './coordinator-options.js';

/**
 * The coordinator: runs the fleet simulation with jobs sent through BullMQ, publishes its progress in Redis, and
 * writes the run's outputs. With an output folder, results are checkpointed there as they arrive and trimmed from
 * Redis (`CheckpointedTransport`), so Redis holds only what is in flight; without one, they stay in the run's
 * results hash. Either way a coordinator restarted with the same scenario and seed (same run id, same folder)
 * resumes without simulating finished jobs again.
 *
 * Lifecycle as the worker's: `start()` serves metrics and connects (idempotent); `run()` starts if needed and runs
 * the scenario once; `close()` stops everything, each step on its own, and is idempotent (it caches its promise).
 */
export class Coordinator {
  readonly runId: string;
  readonly prefix: string;
  readonly registry = new Registry();
  readonly metrics: SimulationMetrics;
  private transport: BullmqTransport | undefined;
  private checkpoint: ResultsCheckpoint | undefined;
  private redis: RedisClient | undefined;
  private server: MetricsServer | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private ready = false;

  constructor(
    private readonly opts: CoordinatorOptions,
    private readonly logger: Logger,
  ) {
    this.runId = opts.runId ?? runIdFor(opts.scenario);
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
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

  /**
   * Serves metrics (first, so /healthz answers while it connects), connects to Redis and opens the queue.
   * Idempotent. Throws MetricsListenError or RedisUnreachable.
   */
  start(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('coordinator closed'));
    this.starting ??= (async () => {
      const o = this.opts;
      const timeout = o.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
      // Read back the results checkpoint first: one that cannot be resumed from stops the run before it starts.
      if (o.outDir && (o.checkpoint ?? COORDINATOR_DEFAULTS.checkpoint)) this.checkpoint = openRunCheckpoint(o.outDir);
      if (o.metrics) {
        this.server = new MetricsServer({ host: o.metrics.host, port: o.metrics.port, registry: this.registry, ready: () => this.ready });
        await this.server.start();
        this.logger.info('metrics server listening', { host: o.metrics.host, port: this.server.port });
      }
      this.redis = createRedis(o.redisUrl, { blocking: false, connectTimeoutMs: timeout });
      await connectOrThrow(this.redis, o.redisUrl, timeout);
      this.transport = await BullmqTransport.open({
        redisUrl: o.redisUrl,
        prefix: this.prefix,
        runId: this.runId,
        connectTimeoutMs: timeout,
        jobsPerBatch: o.jobsPerBatch ?? COORDINATOR_DEFAULTS.jobsPerBatch,
        ...(o.jobs ? { jobs: o.jobs } : {}),
        ...(o.poll ? { poll: o.poll } : {}),
        ...(o.onJobLatency ? { onJobLatency: o.onJobLatency } : {}),
      });
      this.ready = true;
      this.logger.info('coordinator started', { redis: redactRedisUrl(o.redisUrl), run_id: this.runId, scenario: o.scenario.name });
    })();
    return this.starting;
  }

  /** Runs the scenario (starting first if needed) and returns its summary; `jobsFromCache` were resumed from Redis. */
  async run(): Promise<ExperimentResult & { jobsFromCache: number }> {
    const o = this.opts;
    if (!o.sharedMetrics) this.metrics.wavesTotal.set(0);
    this.metrics.prime(o.scenario.cluster.host_classes.map((h) => h.name));
    await this.start();
    const bullmq = this.transport!;
    const redis = this.redis!;
    const key = progressKey(this.prefix, this.runId);
    // With an output folder, results are checkpointed there and trimmed from Redis as they arrive (Redis holds what
    // is in flight); a restarted coordinator takes finished jobs from the checkpoint.
    const checkpoint = this.checkpoint;
    const checkpointed = checkpoint ? checkpointResults(bullmq, { checkpoint, redis, resultsKey: resultsKey(this.prefix, this.runId), trimChunk: COORDINATOR_DEFAULTS.trimChunk }) : undefined;
    const transport = checkpointed?.transport ?? bullmq;
    if (checkpoint && checkpoint.size > 0) this.logger.info('resuming from the results checkpoint', { file: checkpoint.file, results: checkpoint.size, truncated_lines: checkpoint.truncatedLines });
    const writeEveryMs = o.progressWriteIntervalMs ?? COORDINATOR_DEFAULTS.progressWriteIntervalMs;
    let lastWrite = 0;
    const result = await runExperiment({
      scenario: o.scenario,
      transport,
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
          if (p.flowsActive !== undefined) this.metrics.setNetwork(p.flowsActive, p.linkUtilisation ?? {});
        }
        const now = Date.now();
        if (now - lastWrite > writeEveryMs) {
          lastWrite = now;
          void redis.set(key, JSON.stringify({ ...p, at: new Date().toISOString() })).catch(() => {});
        }
      },
    });
    this.metrics.recordHostCpuLedger(result.ledger);
    // The last progress, marked done with the digest (jobs done stay readable: results are trimmed from Redis).
    await redis.set(key, JSON.stringify({ jobsDone: result.summary.jobs, simulatedS: result.summary.simulated_end_s, done: true, digest: result.summary.digest, at: new Date().toISOString() }));
    await checkpointed?.finish();
    return { ...result, jobsFromCache: bullmq.jobsFromCache + (checkpointed?.transport.jobsFromCheckpoint ?? 0) };
  }

  /** Stops serving and disconnects, each step on its own; idempotent. Finished jobs' results stay in Redis. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      for (const step of [
        async () => this.starting?.catch(() => {}),
        async () => this.transport?.close(),
        async () => this.checkpoint?.close(),
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
      this.transport = undefined;
    })();
    return this.closing;
  }
}
