import { join } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../../common/logger.js';
import { COORDINATOR_DEFAULTS } from '../coordinator/coordinator-options.js';
import { REDIS_CONNECT_TIMEOUT_MS, REDIS_RECONNECT_GRACE_MS } from '../queue/queue-defaults.js';
import { RUN_ID_PATTERN } from '../queue/queue-names.js';
import { connectOrThrow, createRedis, untilReady, type RedisClient } from '../queue/redis-connection.js';
import { isThreadReady } from '../worker/thread-ready.js';
import type { ClusterRunResult } from './cluster-run.js';

/**
 * Coordinators as jobs. A distributed region run is a BullMQ flow: a parent job on the `regions` queue (the region
 * run) and one child job per cluster on the `coordinators` queue. Any process serving coordinator jobs
 * (`migsim worker --coordinators N`) takes a cluster job, runs that cluster's coordinator (its migrations go as jobs
 * to the shared migration workers through the jobs queue, as in any distributed run), writes the cluster's outputs
 * into `<out_dir>/<cluster>` and returns the cluster's ClusterRunResult as the job's return value.
 *
 * **Outputs go through a shared filesystem**: the region process and every coordinator-serving process see the
 * run's output directory at the same path (one machine, or a shared volume). Redis only carries the small per-cluster
 * summaries (the children's return values), so its memory stays bounded by what is in flight.
 *
 * A coordinator process that dies mid-run leaves its cluster job's lock to expire; BullMQ's stalled-job check moves
 * the job back to waiting and another process takes it: the cluster's coordinator replays from the start with the
 * same run id and takes finished migrations from the run's results hash, so the cluster's digest is unchanged.
 */
export const COORDINATORS_QUEUE = 'coordinators';
export const REGIONS_QUEUE = 'regions';
export const CLUSTER_JOB_NAME = 'cluster';
export const REGION_JOB_NAME = 'region';

/** What a cluster job carries. The scenario is the region process's resolved cluster scenario (trusted: same version). */
export const clusterJobSchema = z
  .object({
    region_run_id: z.string().regex(RUN_ID_PATTERN),
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'cluster names are letters, digits, dot, dash, underscore'),
    run_id: z.string().regex(RUN_ID_PATTERN),
    out_dir: z.string().min(1),
    scenario: z.record(z.string(), z.unknown()),
    /**
     * Where the cluster's migration jobs run: `workers` sends them through the jobs queue to the migration workers
     * (as any distributed run); `coordinator` simulates them on the coordinator's own thread, as an embedded run does
     * (see REGION_FLOW_DEFAULTS.migrations). Absent: `workers`.
     */
    migrations: z.enum(['workers', 'coordinator']).optional(),
  })
  .strict();

/** Where a region's cluster jobs run their migration jobs (see `clusterJobSchema`). */
export type ClusterMigrations = NonNullable<ClusterJob['migrations']>;

export type ClusterJob = z.output<typeof clusterJobSchema>;

/** What a coordinator thread is given (`coordinator-jobs-thread.ts`). */
export interface CoordinatorThreadTask {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly jobsPerBatch: number;
  readonly connectTimeoutMs: number;
  readonly job: ClusterJob;
}

/** What a coordinator thread answers. */
export type CoordinatorThreadReply =
  | { readonly ok: true; readonly result: ClusterRunResult; readonly jobsFromCache: number; readonly waitedS: number; readonly wallS: number; readonly migrations: ClusterMigrations }
  | { readonly ok: false; readonly error: string };


/** Where a cluster's outputs go within the region's output directory. */
export function clusterOutDir(regionOutDir: string, cluster: string): string {
  return join(regionOutDir, cluster);
}

export interface CoordinatorJobServerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** Cluster coordinators run at once in this process. @defaultValue 1 */
  readonly concurrency?: number;
  /** A cluster job whose lock is not renewed this long is taken back by the next stall check, ms. @defaultValue 30000 */
  readonly lockDurationMs?: number;
  /** How often stalled cluster jobs are looked for, ms. @defaultValue 30000 */
  readonly stalledIntervalMs?: number;
  /** Stalls a cluster job may have before it fails (a restarted coordinator resumes, so 2 is safe). @defaultValue 2 */
  readonly maxStalledCount?: number;
  /** Migration jobs per BullMQ job. @defaultValue COORDINATOR_DEFAULTS.jobsPerBatch */
  readonly jobsPerBatch?: number;
  readonly connectTimeoutMs?: number;
}

export const COORDINATOR_JOB_DEFAULTS = {
  concurrency: 1,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
} as const;

/** Serves cluster jobs from the `coordinators` queue: each is one cluster's coordinator run. */
export class CoordinatorJobServer {
  private worker: Worker | undefined;
  private redis: RedisClient | undefined;
  private closing: Promise<void> | undefined;
  /** Coordinator threads waiting for a cluster job, and those running one. */
  private readonly idle: Thread[] = [];
  private readonly busy = new Set<Thread>();
  clustersDone = 0;

  constructor(
    private readonly opts: CoordinatorJobServerOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const o = this.opts;
    const timeout = o.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
    this.redis = createRedis(o.redisUrl, { blocking: false, connectTimeoutMs: timeout });
    await connectOrThrow(this.redis, o.redisUrl, timeout);
    const conn = createRedis(o.redisUrl, { blocking: true, connectTimeoutMs: timeout });
    await connectOrThrow(conn, o.redisUrl, timeout);
    // Load the coordinator threads first (they are kept between jobs): the process takes no cluster job before its
    // threads are ready, so its start-up is paid before it serves.
    const n = o.concurrency ?? COORDINATOR_JOB_DEFAULTS.concurrency;
    const spawned = await Promise.allSettled(Array.from({ length: n }, () => this.spawn()));
    for (const r of spawned) if (r.status === 'fulfilled') this.idle.push(r.value);
    const failed = spawned.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Redis may have dropped while the threads loaded: hand BullMQ the connection only once it is back.
    await untilReady(conn, o.redisUrl, REDIS_RECONNECT_GRACE_MS);
    this.worker = new Worker(COORDINATORS_QUEUE, (job) => this.process(job), {
      connection: conn,
      prefix: o.prefix,
      concurrency: o.concurrency ?? COORDINATOR_JOB_DEFAULTS.concurrency,
      lockDuration: o.lockDurationMs ?? COORDINATOR_JOB_DEFAULTS.lockDurationMs,
      stalledInterval: o.stalledIntervalMs ?? COORDINATOR_JOB_DEFAULTS.stalledIntervalMs,
      maxStalledCount: o.maxStalledCount ?? COORDINATOR_JOB_DEFAULTS.maxStalledCount,
    });
    this.worker.on('error', (e) => this.logger.warn('coordinator jobs: worker error', { error: e.message }));
    this.worker.on('failed', (job, err) => this.logger.warn('cluster job failed', { job: job?.id, error: err.message }));
    this.logger.info('serving coordinator jobs', { prefix: o.prefix, concurrency: o.concurrency ?? COORDINATOR_JOB_DEFAULTS.concurrency });
  }

  private async process(job: Job): Promise<ClusterRunResult> {
    const parsed = clusterJobSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(`invalid cluster job: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
    }
    const c = parsed.data;
    const o = this.opts;
    this.logger.info('cluster coordinator started', { region: c.region_run_id, cluster: c.name, run_id: c.run_id, attempt: job.attemptsMade + 1 });
    const task: CoordinatorThreadTask = {
      redisUrl: o.redisUrl,
      prefix: o.prefix,
      jobsPerBatch: o.jobsPerBatch ?? COORDINATOR_DEFAULTS.jobsPerBatch,
      connectTimeoutMs: o.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS,
      job: c,
    };
    // The coordinator simulates in long synchronous stretches: on a thread of its own, so this event loop keeps
    // renewing the job's lock (and serving migration jobs when the process does both).
    const out = await this.onThread(task);
    if (!out.ok) throw new Error(out.error);
    this.clustersDone++;
    this.logger.info('cluster coordinator finished', { cluster: c.name, digest: out.result.digest, migrations: out.migrations, from_cache: out.jobsFromCache, wall_s: out.wallS, waited_for_results_s: out.waitedS });
    return out.result;
  }

  /**
   * Runs a task on an idle coordinator thread (threads are kept between cluster jobs: loading the sources costs a
   * second or more of CPU). A thread that dies fails its task and is not reused.
   */
  private async onThread(task: CoordinatorThreadTask): Promise<CoordinatorThreadReply> {
    if (this.closing) throw new Error('coordinator job server closed');
    const thread = this.idle.pop() ?? (await this.spawn());
    this.busy.add(thread);
    let healthy = false;
    try {
      const reply = await new Promise<CoordinatorThreadReply>((resolve, reject) => {
        const onExit = (code: number) => reject(new Error(`coordinator thread exited (code ${code}) before its cluster was done`));
        thread.once('error', reject);
        thread.once('exit', onExit);
        thread.once('message', (m: CoordinatorThreadReply) => {
          thread.off('error', reject);
          thread.off('exit', onExit);
          healthy = true;
          resolve(m);
        });
        thread.postMessage(task);
      });
      return reply;
    } finally {
      this.busy.delete(thread);
      if (healthy && !this.closing) this.idle.push(thread);
      else await thread.terminate();
    }
  }

  /** The coordinator threads' OS thread ids (Linux; for per-thread CPU in `/proc/<pid>/task/<tid>`). */
  readonly threadIds: number[] = [];

  /** A coordinator thread, once it has loaded its modules (its `threadReady()` message). */
  private async spawn(): Promise<Thread> {
    const t = new Thread(new URL('./coordinator-jobs-thread.mjs', import.meta.url));
    t.on('error', (e) => this.logger.warn('coordinator thread failed', { error: e.message }));
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`coordinator thread exited (code ${code}) before it was ready`));
      t.once('exit', onExit);
      t.once('message', (m: unknown) => {
        t.off('exit', onExit);
        if (!isThreadReady(m)) return reject(new Error('coordinator thread answered before it was ready'));
        if (m.tid !== undefined) this.threadIds.push(m.tid);
        resolve();
      });
    });
    return t;
  }

  /** Stops taking cluster jobs, lets running ones finish, disconnects; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Running coordinators are stopped, not waited for: their cluster jobs resume elsewhere from the stored results.
      for (const t of [...this.busy, ...this.idle.splice(0)]) await t.terminate();
      await this.worker?.close(true).catch((e: unknown) => this.logger.warn('error while closing', { error: (e as Error).message }));
      this.redis?.disconnect();
    })();
    return this.closing;
  }
}
