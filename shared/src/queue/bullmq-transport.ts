import { Queue } from 'bullmq';
import type { RedisClient as Redis } from './redis-connection.js';
import type { JobEnvelope, JobOutcome, JobTransport } from '../fleet/job-transport.js';
import { migrationResultSchema } from '../migration/migration-result.js';
import type { JobPayload } from './job-payload.js';
import { failuresKey, JOBS_QUEUE, resultsKey } from './queue-names.js';
import { connectOrThrow, createRedis } from './redis-connection.js';

export interface BullmqTransportOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly runId: string;
  /** Longest pause between polls of the results hash. */
  readonly maxPollMs?: number;
  /** Called with each job's latency: wall seconds from queueing it to reading its result. */
  readonly onJobLatency?: (seconds: number) => void;
}

/** The events stream is only read by dashboards and debugging tools: keep the last few hundred events. */
export const EVENTS_MAX_LEN = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  private inFlightSubmits = 0;
  private batch: JobEnvelope[] = [];
  private flushing: Promise<void> | undefined;
  jobsFromCache = 0;
  jobsQueued = 0;

  private constructor(
    private readonly opts: BullmqTransportOptions,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly queueConn: Redis,
  ) {}

  static async open(opts: BullmqTransportOptions): Promise<BullmqTransport> {
    // Fail fast if Redis is not there at the start; once connected, ride out restarts (commands wait and retry).
    const redis = createRedis(opts.redisUrl, { blocking: true });
    await connectOrThrow(redis, opts.redisUrl);
    const queueConn = createRedis(opts.redisUrl, { blocking: true });
    await connectOrThrow(queueConn, opts.redisUrl);
    const queue = new Queue(JOBS_QUEUE, { connection: queueConn, prefix: opts.prefix, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    queue.on('error', () => {});
    return new BullmqTransport(opts, redis, queue, queueConn);
  }

  /**
   * Queues a job. Submissions made in the same turn of the event loop are sent together: one HMGET for results
   * already stored (a resumed run) and one addBulk for the rest.
   */
  submit(envelope: JobEnvelope): Promise<void> {
    this.batch.push(envelope);
    if (!this.flushing) {
      this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.flush())
        .catch((e: Error) => {
          this.error ??= e;
        })
        .finally(() => {
          this.flushing = undefined;
          if (this.batch.length > 0) void this.submit(this.batch.pop()!);
        });
    }
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.inFlightSubmits++;
    try {
      const key = resultsKey(this.opts.prefix, this.opts.runId);
      const cached = await this.redis.hmget(key, ...batch.map((b) => b.id));
      const toQueue: JobEnvelope[] = [];
      batch.forEach((b, i) => {
        const c = cached[i];
        if (c !== null && c !== undefined) {
          this.jobsFromCache++;
          this.ready.push({ id: b.id, result: migrationResultSchema.parse(JSON.parse(c)) });
        } else {
          this.pending.add(b.id);
          toQueue.push(b);
        }
      });
      if (toQueue.length > 0) {
        if (this.opts.onJobLatency) {
          const now = performance.now();
          for (const b of toQueue) this.queuedAt.set(b.id, now);
        }
        await this.queue.addBulk(
          toQueue.map((b) => {
            const payload: JobPayload = { run_id: this.opts.runId, id: b.id, job: b.job };
            return {
              name: 'job',
              data: payload,
              opts: { jobId: b.id, removeOnComplete: true, removeOnFail: { count: 1000 }, attempts: 3, backoff: { type: 'exponential' as const, delay: 200 } },
            };
          }),
        );
        this.jobsQueued += toQueue.length;
      }
    } finally {
      this.inFlightSubmits--;
    }
  }

  async nextResults(): Promise<JobOutcome[]> {
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
      } else if (this.inFlightSubmits === 0 && !this.flushing && this.batch.length === 0) {
        return [];
      }
      await sleep(pause);
      pause = Math.min(this.opts.maxPollMs ?? 50, pause * 2);
    }
  }

  private async poll(): Promise<JobOutcome[]> {
    const ids = [...this.pending];
    const out: JobOutcome[] = [];
    const key = resultsKey(this.opts.prefix, this.opts.runId);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const values = await this.redis.hmget(key, ...chunk);
      values.forEach((v, k) => {
        if (v === null) return;
        const id = chunk[k]!;
        this.pending.delete(id);
        const t = this.queuedAt.get(id);
        if (t !== undefined) {
          this.queuedAt.delete(id);
          this.opts.onJobLatency?.((performance.now() - t) / 1e3);
        }
        out.push({ id, result: migrationResultSchema.parse(JSON.parse(v)) });
      });
    }
    if (out.length === 0 && ids.length > 0) {
      const failures = await this.redis.hmget(failuresKey(this.opts.prefix, this.opts.runId), ...ids.slice(0, 500));
      const bad = failures.findIndex((f) => f !== null);
      if (bad >= 0) throw new Error(`job ${ids[bad]} failed on a worker: ${failures[bad]}`);
    }
    return out;
  }

  /** BullMQ's job counts by state, for the queue-depth gauge. */
  async jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.queueConn.disconnect();
    this.redis.disconnect();
  }
}
