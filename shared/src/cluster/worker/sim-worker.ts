import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import type { Logger } from '../../common/logger.js';
import { parseJobPayload, PayloadTooLarge } from '../queue/job-payload.js';
import { failuresKey, JOBS_QUEUE, resultsKey } from '../queue/queue-names.js';
import { encodeResult } from '../queue/result-codec.js';
import { connectOrThrow, createRedis, redactRedisUrl } from '../queue/redis-connection.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { MetricsServer } from '../observability/metrics-server.js';
import { WorkerMetrics } from '../observability/worker-metrics.js';
import { JobThreadPool } from './job-thread-pool.js';
import type { WorkerConfig } from './worker-env.js';

/**
 * The worker service: a BullMQ Worker whose processor validates the payload, simulates the job on a worker thread
 * and stores the result in the run's results hash (idempotent: a job run twice writes the same result). A
 * malformed payload fails that job alone, without retries. `close()` stops taking jobs, lets the current ones
 * finish, and closes the threads and connections; it is idempotent.
 */
export class SimWorker {
  private worker: Worker | undefined;
  private redis: RedisClient | undefined;
  private pool: JobThreadPool | undefined;
  private closing: Promise<void> | undefined;
  private server: MetricsServer | undefined;
  private ready = false;
  readonly registry = new Registry();
  readonly metrics: WorkerMetrics;
  jobsDone = 0;
  jobsFailed = 0;

  constructor(
    private readonly config: WorkerConfig,
    private readonly logger: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry });
    this.registry.setDefaultLabels({ service: 'worker' });
    this.metrics = new WorkerMetrics(this.registry, config.WORKER_CONCURRENCY);
  }

  async start(): Promise<void> {
    const c = this.config;
    if (c.METRICS_PORT !== undefined) {
      this.server = new MetricsServer({ host: c.METRICS_HOST, port: c.METRICS_PORT, registry: this.registry, ready: () => this.ready });
      await this.server.start();
    }
    this.redis = createRedis(c.REDIS_URL, { blocking: false });
    await connectOrThrow(this.redis, c.REDIS_URL);
    const workerConn = createRedis(c.REDIS_URL, { blocking: true });
    await connectOrThrow(workerConn, c.REDIS_URL);
    this.pool = new JobThreadPool(Math.max(1, Math.min(c.WORKER_CONCURRENCY, 64)));
    this.worker = new Worker(JOBS_QUEUE, (job) => this.process(job), {
      connection: workerConn,
      prefix: c.QUEUE_PREFIX,
      concurrency: c.WORKER_CONCURRENCY,
      lockDuration: c.LOCK_DURATION_MS,
      stalledInterval: c.STALLED_INTERVAL_MS,
      maxStalledCount: 2,
    });
    this.worker.on('error', (e) => this.logger.warn('worker error', { error: e.message }));
    this.ready = true;
    this.worker.on('failed', (job, err) => {
      this.jobsFailed++;
      this.metrics.jobs.inc({ result: 'failed' });
      this.logger.warn('job failed', { job: job?.id, error: err.message });
    });
    this.logger.info('worker started', { redis: redactRedisUrl(c.REDIS_URL), prefix: c.QUEUE_PREFIX, concurrency: c.WORKER_CONCURRENCY });
  }

  private async process(job: Job): Promise<{ ok: true }> {
    let payload;
    try {
      payload = parseJobPayload(job.data);
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof PayloadTooLarge) {
        // Drop the oversized data, here and in Redis, before failing the job: the producer's options may keep failed
        // jobs (and removeOnFail of a job overrides the worker's), so a flood of multi-MiB payloads would otherwise
        // stay in Redis. The failed job keeps a small stub and the reason (updateData also drops the local copy).
        await job.updateData({ rejected: reason }).catch((err: unknown) => this.logger.debug('could not replace an oversized payload', { job: job.id, error: (err as Error).message }));
      }
      // Retrying a malformed payload cannot help: fail this job alone.
      throw new UnrecoverableError(reason);
    }
    const t0 = performance.now();
    this.metrics.active.inc();
    try {
      const resultJson = await this.pool!.run(payload.job);
      await this.redis!.hset(resultsKey(this.config.QUEUE_PREFIX, payload.run_id), payload.id, encodeResult(resultJson));
      this.jobsDone++;
      this.metrics.jobs.inc({ result: 'completed' });
      return { ok: true };
    } catch (e) {
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.redis!.hset(failuresKey(this.config.QUEUE_PREFIX, payload.run_id), payload.id, (e as Error).message).catch(() => {});
      }
      throw e;
    } finally {
      const wall = (performance.now() - t0) / 1e3;
      this.metrics.active.dec();
      this.metrics.jobWall.observe(wall);
      this.metrics.busy.inc(wall);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const step of [
        async () => this.worker?.close(),
        async () => this.pool?.close(),
        async () => {
          this.redis?.disconnect();
        },
        async () => {
          this.ready = false;
          await this.server?.stop();
        },
      ]) {
        try {
          await step();
        } catch (e) {
          this.logger.warn('error while closing', { error: (e as Error).message });
        }
      }
      this.logger.info('worker stopped', { jobs_done: this.jobsDone, jobs_failed: this.jobsFailed });
    })();
    return this.closing;
  }
}
