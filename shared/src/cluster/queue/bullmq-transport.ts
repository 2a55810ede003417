import { Queue } from 'bullmq';
import type { RedisClient as Redis } from './redis-connection.js';
import type { JobEnvelope, JobOutcome, JobTransport } from '../fleet/job-transport.js';
import { migrationResultSchema } from '../../migration/job/migration-result.js';
import type { JobPayload } from './job-payload.js';
import { createHash } from 'node:crypto';
import { jsonSizeUpTo } from '../../common/json-size.js';
import type { BatchPayload } from './batch-payload.js';
import { BATCH_JOB_NAME, failuresKey, JOBS_QUEUE, resultsKey, SINGLE_JOB_NAME } from './queue-names.js';
import { decodeResult } from './result-codec.js';
import { JobFailed } from './errors/job-failed.js';
import { EVENTS_MAX_LEN, JOB_QUEUE_DEFAULTS, MAX_BATCH_BYTES, MAX_BATCH_JOBS, MAX_PAYLOAD_BYTES, REDIS_CONNECT_TIMEOUT_MS, RESULT_POLL_DEFAULTS, type JobQueueOptions, type ResultPollOptions } from './queue-defaults.js';
import { connectOrThrow, createRedis } from './redis-connection.js';

export interface BullmqTransportOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly runId: string;
  /** Options of the jobs added; each field defaults to JOB_QUEUE_DEFAULTS'. */
  readonly jobs?: Partial<JobQueueOptions>;
  /** How results are collected; each field defaults to RESULT_POLL_DEFAULTS'. */
  readonly poll?: Partial<ResultPollOptions>;
  /** Give up connecting to Redis after this long, ms. @defaultValue REDIS_CONNECT_TIMEOUT_MS (5000) */
  readonly connectTimeoutMs?: number;
  /**
   * Migration jobs packed into one BullMQ job (a batch: `batch-payload.ts`), up to MAX_BATCH_JOBS; 1 sends each job as
   * a BullMQ job of its own. Jobs are packed from those submitted in the same turn of the event loop, so a batch
   * never waits for more jobs to come. @defaultValue 1 (the coordinator passes COORDINATOR_DEFAULTS.jobsPerBatch)
   */
  readonly jobsPerBatch?: number;
  /** Called with each job's latency: wall seconds from queueing it to reading its result. */
  readonly onJobLatency?: (seconds: number) => void;
}

/** Jobs waiting to be sent before the transport asks the simulation for a turn of the event loop. */
const TURN_JOBS = 32;
/** Least time between two polls of the results hash made during turns, ms. */
const TURN_POLL_MS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The jobs queue as producers open it: on its own connection, with the events stream capped. */
export interface JobsQueue {
  readonly queue: Queue;
  /** Closes the queue and its connection. */
  close(): Promise<void>;
}

/**
 * Opens the jobs queue for a producer or a reader of its counts. Every Queue writes the events-stream cap into the
 * queue's meta at start, so every one opened here caps it the same.
 */
export async function openJobsQueue(redisUrl: string, prefix: string, connectTimeoutMs: number = REDIS_CONNECT_TIMEOUT_MS): Promise<JobsQueue> {
  const conn = createRedis(redisUrl, { blocking: true, connectTimeoutMs });
  await connectOrThrow(conn, redisUrl, connectTimeoutMs);
  const queue = new Queue(JOBS_QUEUE, { connection: conn, prefix, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
  queue.on('error', () => {});
  return {
    queue,
    async close() {
      await queue.close().catch(() => {});
      conn.disconnect();
    },
  };
}

/**
 * The coordinator's side of the queue: jobs are added with their deterministic ids (adding an id that is waiting
 * or active is a no-op); workers write each result into the run's results hash, which is also how a restarted
 * coordinator gets finished jobs back without simulating them again.
 */
export class BullmqTransport implements JobTransport {
  private readonly pending = new Set<string>();
  /** Queueing time of each pending job (performance.now()), when latencies are reported. */
  private readonly queuedAt = new Map<string, number>();
  private ready: JobOutcome[] = [];
  private error: Error | undefined;
  private batch: JobEnvelope[] = [];
  /** Sending the batches, while there are any. */
  private flushing: Promise<void> | undefined;
  jobsFromCache = 0;

  private readonly jobOptions: JobQueueOptions;
  private readonly pollOptions: ResultPollOptions;

  private constructor(
    private readonly opts: BullmqTransportOptions,
    private readonly redis: Redis,
    private readonly jobs: JobsQueue,
  ) {
    this.jobOptions = { ...JOB_QUEUE_DEFAULTS, ...opts.jobs };
    this.pollOptions = { ...RESULT_POLL_DEFAULTS, ...opts.poll };
    const perBatch = opts.jobsPerBatch ?? 1;
    if (!Number.isInteger(perBatch) || perBatch < 1 || perBatch > MAX_BATCH_JOBS) {
      throw new RangeError(`jobsPerBatch must be an integer from 1 to ${MAX_BATCH_JOBS} (got ${perBatch})`);
    }
    this.jobsPerBatch = perBatch;
  }

  private readonly jobsPerBatch: number;
  /** BullMQ jobs added (batches and single jobs), for the throughput model's counts. */
  queueJobsAdded = 0;
  /** When the results hash was last polled (performance.now()). */
  private lastPoll = 0;

  static async open(opts: BullmqTransportOptions): Promise<BullmqTransport> {
    // Fail fast if Redis is not there at the start; once connected, ride out restarts (commands wait and retry).
    const timeout = opts.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
    const redis = createRedis(opts.redisUrl, { blocking: true, connectTimeoutMs: timeout });
    await connectOrThrow(redis, opts.redisUrl, timeout);
    return new BullmqTransport(opts, redis, await openJobsQueue(opts.redisUrl, opts.prefix, timeout));
  }

  /** The jobs queue this transport adds to (the queue-depth gauge reads its counts). */
  get queue(): Queue {
    return this.jobs.queue;
  }

  /**
   * Queues a job. Submissions made in the same turn of the event loop, or while a batch is being sent, are sent
   * together: one HMGET for results already stored (a resumed run) and one addBulk for the rest. Resolves once the
   * job is queued (or its stored result taken).
   */
  submit(envelope: JobEnvelope): Promise<void> {
    this.batch.push(envelope);
    this.flushing ??= this.flushAll();
    return this.flushing;
  }

  /** Sends batches until none is left; a failure is reported by nextResults. */
  private async flushAll(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.batch.length > 0) await this.flush();
    } catch (e) {
      this.error ??= e as Error;
    } finally {
      // In the same turn as the last look at the batch: a job submitted after it starts a new flushAll.
      this.flushing = undefined;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    const key = resultsKey(this.opts.prefix, this.opts.runId);
    const cached = await this.redis.hmgetBuffer(key, ...batch.map((b) => b.id));
    const toQueue: JobEnvelope[] = [];
    batch.forEach((b, i) => {
      const c = cached[i];
      if (c !== null && c !== undefined) {
        this.jobsFromCache++;
        const json = decodeResult(c);
        this.ready.push({ id: b.id, result: migrationResultSchema.parse(JSON.parse(json)), json });
      } else {
        this.pending.add(b.id);
        toQueue.push(b);
      }
    });
    if (toQueue.length === 0) return;
    if (this.opts.onJobLatency) {
      const now = performance.now();
      for (const b of toQueue) this.queuedAt.set(b.id, now);
    }
    const opts = {
      removeOnComplete: true,
      removeOnFail: { count: this.jobOptions.failedJobsKept },
      attempts: this.jobOptions.attempts,
      backoff: { type: 'exponential' as const, delay: this.jobOptions.backoffDelayMs },
    };
    const single = (b: JobEnvelope) => {
      const payload: JobPayload = { run_id: this.opts.runId, id: b.id, job: b.job };
      return { name: SINGLE_JOB_NAME, data: payload, opts: { ...opts, jobId: b.id } };
    };
    const bulk = this.jobsPerBatch === 1 ? toQueue.map(single) : this.pack(toQueue, single, opts);
    this.queueJobsAdded += bulk.length;
    await this.jobs.queue.addBulk(bulk);
  }

  /**
   * Packs jobs into batches of at most `jobsPerBatch` jobs and MAX_BATCH_BYTES. A job over MAX_PAYLOAD_BYTES goes
   * alone as a single job, so the worker rejects it as it always has (it fails alone, with its reason). A batch's
   * BullMQ id is a hash of its jobs' ids: the same batch sent again while it is waiting or running is a no-op.
   */
  private pack<O extends object>(
    toQueue: readonly JobEnvelope[],
    single: (b: JobEnvelope) => { name: string; data: unknown; opts: O & { jobId: string } },
    opts: O,
  ): { name: string; data: unknown; opts: O & { jobId: string } }[] {
    const out: { name: string; data: unknown; opts: O & { jobId: string } }[] = [];
    let jobs: { id: string; job: JobEnvelope['job'] }[] = [];
    let bytes = 0;
    const close = () => {
      if (jobs.length === 0) return;
      const hash = createHash('sha256');
      for (const j of jobs) hash.update(j.id).update('\n');
      const data: BatchPayload = { run_id: this.opts.runId, jobs };
      out.push({ name: BATCH_JOB_NAME, data, opts: { ...opts, jobId: `${this.opts.runId}.batch-${hash.digest('hex').slice(0, 24)}` } });
      jobs = [];
      bytes = 0;
    };
    for (const b of toQueue) {
      const size = jsonSizeUpTo(b.job, MAX_PAYLOAD_BYTES) + b.id.length + 16;
      if (size > MAX_PAYLOAD_BYTES) {
        out.push(single(b));
        continue;
      }
      if (jobs.length >= this.jobsPerBatch || bytes + size > MAX_BATCH_BYTES - 1024) close();
      jobs.push({ id: b.id, job: b.job });
      bytes += size;
    }
    close();
    return out;
  }

  /** Enough jobs wait to be sent (a full batch, at least TURN_JOBS) and no results are waiting to be taken. */
  wantsTurn(): boolean {
    return this.batch.length >= Math.max(this.jobsPerBatch, TURN_JOBS);
  }

  /**
   * One turn of the event loop, so the pending jobs go out (their flush starts) while the simulation goes on; returns
   * the results already here, and polls the results hash when it has not for `TURN_POLL_MS`.
   */
  async turn(): Promise<JobOutcome[]> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.error) throw this.error;
    if (this.ready.length > 0) {
      const out = this.ready;
      this.ready = [];
      return out;
    }
    const now = performance.now();
    if (this.pending.size === 0 || now - this.lastPoll < TURN_POLL_MS) return [];
    return this.poll();
  }

  /** Wall seconds the simulation spent waiting in nextResults (blocked on results), for logs and the scaling model. */
  get waitedS(): number {
    return this.waitedMs / 1e3;
  }

  private waitedMs = 0;

  async nextResults(): Promise<JobOutcome[]> {
    const t0 = performance.now();
    try {
      return await this.waitForResults();
    } finally {
      this.waitedMs += performance.now() - t0;
    }
  }

  private async waitForResults(): Promise<JobOutcome[]> {
    let pause = 1;
    for (;;) {
      if (this.error) throw this.error;
      if (this.ready.length > 0) {
        const out = this.ready;
        this.ready = [];
        return out;
      }
      if (this.pending.size > 0) {
        const found = await this.poll();
        if (found.length > 0) return found;
      } else if (!this.flushing && this.batch.length === 0) {
        return [];
      }
      await sleep(pause);
      pause = Math.min(this.pollOptions.maxPollMs, pause * 2);
    }
  }

  /**
   * The results hash's field count when the pending ids were last read (-1: never), and when that was. Workers only
   * add fields (a rewrite of the same id leaves the count alone), so while the count has not changed no pending job
   * has a result yet and the read of every pending id (HMGET over up to 2,000 ids) is skipped. Trimming taken
   * results (HDEL) may bring the count back to the same value as new ones arrive, so every pending id is read at
   * least every `fullReadIntervalMs` anyway.
   */
  private resultsSeen = -1;
  private lastFullRead = 0;

  private async poll(): Promise<JobOutcome[]> {
    const now = performance.now();
    this.lastPoll = now;
    const out: JobOutcome[] = [];
    const key = resultsKey(this.opts.prefix, this.opts.runId);
    // Counted before the read: a result stored between the two changes the next count.
    const count = await this.redis.hlen(key);
    const read = count !== this.resultsSeen || now - this.lastFullRead >= this.pollOptions.fullReadIntervalMs;
    this.resultsSeen = count;
    if (read) this.lastFullRead = now;
    const ids = read ? [...this.pending] : [];
    const n = this.pollOptions.idsPerRead;
    for (let i = 0; i < ids.length; i += n) {
      const chunk = ids.slice(i, i + n);
      const values = await this.redis.hmgetBuffer(key, ...chunk);
      values.forEach((v, k) => {
        if (v === null) return;
        const id = chunk[k]!;
        this.pending.delete(id);
        const t = this.queuedAt.get(id);
        if (t !== undefined) {
          this.queuedAt.delete(id);
          this.opts.onJobLatency?.((performance.now() - t) / 1e3);
        }
        const json = decodeResult(v);
        out.push({ id, result: migrationResultSchema.parse(JSON.parse(json)), json });
      });
    }
    if (out.length === 0 && this.pending.size > 0) {
      // Whichever pending job failed for good (the hash holds this run's failures only, usually none).
      const failures = await this.redis.hgetall(failuresKey(this.opts.prefix, this.opts.runId));
      for (const [id, reason] of Object.entries(failures)) {
        if (this.pending.has(id)) throw new JobFailed(id, reason);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.jobs.close();
    this.redis.disconnect();
  }
}
