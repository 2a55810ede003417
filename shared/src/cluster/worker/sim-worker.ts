import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import { MetricsServer } from '../observability/metrics-server.js';
import { WorkerMetrics } from '../observability/worker-metrics.js';
import { PayloadTooLarge } from '../queue/errors/payload-too-large.js';
import { parseJobPayload } from '../queue/job-payload.js';
import { parseBatchPayload, type BatchEntry } from '../queue/batch-payload.js';
import { BATCH_JOB_NAME, failuresKey, JOBS_QUEUE, resultsKey } from '../queue/queue-names.js';
import { connectOrThrow, createRedis, redactRedisUrl, untilReady, type RedisClient } from '../queue/redis-connection.js';
import { REDIS_RECONNECT_GRACE_MS } from '../queue/queue-defaults.js';
import { encodeResult } from '../queue/result-codec.js';
import { JobThreadPool, type ThreadJobOutcome } from './job-thread-pool.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';

/**
 * The worker service: a BullMQ Worker whose processor validates the payload, simulates the job on a worker thread
 * and stores the result in the run's results hash (idempotent: a job run twice writes the same result). A
 * malformed payload fails that job alone, without retries. `start()` connects and begins serving; `close()` stops
 * taking jobs, lets the current ones finish, and closes the threads and connections; it is idempotent.
 */
export class SimWorker {
  private worker: Worker | undefined;
  private redis: RedisClient | undefined;
  private pool: JobThreadPool | undefined;
  private closing: Promise<void> | undefined;
  private server: MetricsServer | undefined;
  private ready = false;
  readonly options: ResolvedWorkerOptions;
  readonly registry = new Registry();
  readonly metrics: WorkerMetrics;
  jobsDone = 0;
  jobsFailed = 0;

  constructor(
    options: WorkerOptions,
    private readonly logger: Logger,
  ) {
    this.options = resolveWorkerOptions(options);
    collectDefaultMetrics({ register: this.registry });
    this.registry.setDefaultLabels({ service: 'worker' });
    this.metrics = new WorkerMetrics(this.registry, this.options.concurrency);
  }

  async start(): Promise<void> {
    const o = this.options;
    if (o.metrics) {
      this.server = new MetricsServer({ host: o.metrics.host, port: o.metrics.port, registry: this.registry, ready: () => this.ready });
      await this.server.start();
    }
    this.redis = createRedis(o.redisUrl, { blocking: false, connectTimeoutMs: o.connectTimeoutMs });
    await connectOrThrow(this.redis, o.redisUrl, o.connectTimeoutMs);
    const workerConn = createRedis(o.redisUrl, { blocking: true, connectTimeoutMs: o.connectTimeoutMs });
    await connectOrThrow(workerConn, o.redisUrl, o.connectTimeoutMs);
    this.pool = new JobThreadPool(o.threads, { maxHeapMb: o.threadMaxHeapMb });
    // Take no job before the simulation threads have loaded their modules: start-up is paid before serving.
    await this.pool.ready();
    // Redis may have dropped while the threads loaded: hand BullMQ the connection only once it is back.
    await untilReady(workerConn, o.redisUrl, REDIS_RECONNECT_GRACE_MS);
    this.worker = new Worker(JOBS_QUEUE, (job) => this.process(job), {
      connection: workerConn,
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: o.maxStalledCount,
    });
    this.worker.on('error', (e) => this.logger.warn('worker error', { error: e.message }));
    this.ready = true;
    this.worker.on('failed', (job, err) => {
      this.jobsFailed++;
      this.metrics.jobs.inc({ result: 'failed' });
      this.logger.warn('job failed', { job: job?.id, error: err.message });
    });
    this.logger.info('worker started', { redis: redactRedisUrl(o.redisUrl), prefix: o.prefix, concurrency: o.concurrency, threads: o.threads });
  }

  /** The simulation threads' OS thread ids (Linux; for per-thread CPU in `/proc/<pid>/task/<tid>`). */
  get threadIds(): (number | undefined)[] {
    return this.pool?.threadIds ?? [];
  }

  private async process(job: Job): Promise<unknown> {
    return job.name === BATCH_JOB_NAME ? this.processBatch(job) : this.processOne(job);
  }

  /** Drops an oversized payload's data, here and in Redis, before the job fails (see processOne). */
  private async dropData(job: Job, reason: string): Promise<void> {
    await job.updateData({ rejected: reason }).catch((err: unknown) => this.logger.debug('could not replace an oversized payload', { job: job.id, error: (err as Error).message }));
  }

  /**
   * A batch: each entry is validated on its own and a malformed one fails alone (its reason stored in the run's
   * failures hash under its id, no retry), while the others are simulated and their results written with one HSET.
   * Entries whose result is already stored (a batch sent again, or retried) are not simulated again. When a
   * simulation fails (a thread died), the batch is retried after writing the results it has; on its last attempt the
   * failures are stored instead. Returns the batch's counts.
   */
  private async processBatch(job: Job): Promise<{ done: number; cached: number; failed: { index: number; id: string | null; reason: string }[] }> {
    let parsed;
    try {
      parsed = parseBatchPayload(job.data);
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof PayloadTooLarge) await this.dropData(job, reason);
      throw new UnrecoverableError(reason);
    }
    const { runId, entries } = parsed;
    const redis = this.redis!;
    const failed: { index: number; id: string | null; reason: string }[] = [];
    const failures: string[] = [];
    const valid: Extract<BatchEntry, { ok: true }>[] = [];
    for (const e of entries) {
      if (e.ok) {
        valid.push(e);
        continue;
      }
      // Fails alone, without retries: its reason goes where the coordinator looks (when it has an id to go under).
      failed.push({ index: e.index, id: e.id ?? null, reason: e.reason });
      failures.push(e.id ?? `${job.id}[${e.index}]`, e.reason);
      this.jobsFailed++;
      this.metrics.jobs.inc({ result: 'failed' });
      this.logger.warn('job in batch failed', { batch: job.id, index: e.index, job: e.id, error: e.reason });
    }
    if (failures.length > 0) await redis.hset(failuresKey(this.options.prefix, runId), ...failures);
    const key = resultsKey(this.options.prefix, runId);
    const stored = valid.length > 0 ? await redis.hmgetBuffer(key, ...valid.map((v) => v.payload.id)) : [];
    const todo = valid.filter((_, i) => stored[i] === null || stored[i] === undefined);
    const cached = valid.length - todo.length;
    const t0 = performance.now();
    this.metrics.active.inc(todo.length);
    let outcomes: readonly ThreadJobOutcome[];
    try {
      // The batch's jobs go to the threads in one message per thread (not one per job); a thread that dies fails its
      // share, with the reason, and the batch is retried after the other results are written.
      outcomes = await this.pool!.runMany(todo.map((v) => v.payload.job));
    } catch (e) {
      outcomes = todo.map(() => ({ error: (e as Error).message, wallS: 0 }));
    } finally {
      this.metrics.active.dec(todo.length);
    }
    for (const o of outcomes) if ('result' in o) this.metrics.jobWall.observe(o.wallS);
    this.metrics.busy.inc((performance.now() - t0) / 1e3);
    const fields: (string | Buffer)[] = [];
    const errors: { index: number; id: string; reason: string }[] = [];
    outcomes.forEach((o, i) => {
      const id = todo[i]!.payload.id;
      if ('result' in o) fields.push(id, encodeResult(o.result, this.options.compressResults));
      else errors.push({ index: todo[i]!.index, id, reason: o.error });
    });
    if (fields.length > 0) await redis.hset(key, ...fields);
    this.jobsDone += fields.length / 2;
    this.metrics.jobs.inc({ result: 'completed' }, fields.length / 2);
    if (errors.length > 0) {
      if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) {
        throw new Error(`${errors.length} of the batch's jobs failed (retrying them): ${errors[0]!.id}: ${errors[0]!.reason}`);
      }
      await redis.hset(failuresKey(this.options.prefix, runId), ...errors.flatMap((e) => [e.id, e.reason]));
      for (const e of errors) failed.push(e);
      this.jobsFailed += errors.length;
      this.metrics.jobs.inc({ result: 'failed' }, errors.length);
    }
    return { done: fields.length / 2, cached, failed };
  }

  private async processOne(job: Job): Promise<{ ok: true }> {
    let payload;
    try {
      payload = parseJobPayload(job.data);
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof PayloadTooLarge) {
        // Drop the oversized data, here and in Redis, before failing the job: the producer's options may keep failed
        // jobs (and removeOnFail of a job overrides the worker's), so a flood of multi-MiB payloads would otherwise
        // stay in Redis. The failed job keeps a small stub and the reason (updateData also drops the local copy).
        await this.dropData(job, reason);
      }
      // Retrying a malformed payload cannot help: fail this job alone.
      throw new UnrecoverableError(reason);
    }
    const t0 = performance.now();
    this.metrics.active.inc();
    try {
      const resultJson = await this.pool!.run(payload.job);
      await this.redis!.hset(resultsKey(this.options.prefix, payload.run_id), payload.id, encodeResult(resultJson, this.options.compressResults));
      this.jobsDone++;
      this.metrics.jobs.inc({ result: 'completed' });
      return { ok: true };
    } catch (e) {
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.redis!.hset(failuresKey(this.options.prefix, payload.run_id), payload.id, (e as Error).message).catch(() => {});
      }
      throw e;
    } finally {
      const wall = (performance.now() - t0) / 1e3;
      this.metrics.active.dec();
      this.metrics.jobWall.observe(wall);
      this.metrics.busy.inc(wall);
    }
  }

  /** Stops intake, lets running jobs finish, closes threads, connections and the metrics server; idempotent. */
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
      if (this.worker) this.logger.info('worker stopped', { jobs_done: this.jobsDone, jobs_failed: this.jobsFailed });
    })();
    return this.closing;
  }
}
