import type { ServiceSettings } from '../config/service-env.js';

/**
 * Options of the worker service (`SimWorker`), in base units with the unit in the name. Every field but the
 * service settings is optional; `WORKER_DEFAULTS` holds the defaults, and `resolveWorkerOptions` fills them in once.
 */
export interface WorkerOptions extends ServiceSettings {
  /** Jobs taken from the queue at once. @defaultValue 2 */
  readonly concurrency?: number;
  /**
   * Simulation threads (jobs run off the event loop, so locks keep being renewed). More jobs than threads wait for
   * a thread. @defaultValue the concurrency, at most MAX_SIMULATION_THREADS (64)
   */
  readonly threads?: number;
  /** A job whose lock is not renewed for this long is moved back to waiting by the next stall check, ms. @defaultValue 30000 (BullMQ's) */
  readonly lockDurationMs?: number;
  /** How often stalled jobs are looked for, ms. @defaultValue 30000 (BullMQ's) */
  readonly stalledIntervalMs?: number;
  /**
   * Stalls a job may have before it fails. BullMQ's default is 1; jobs here are deterministic and their result
   * write idempotent, so a job that stalled because its worker died may safely run again, and 2 rides out a
   * second crash (a rolling restart right after a kill). @defaultValue 2
   */
  readonly maxStalledCount?: number;
  /** V8 heap limit of each simulation thread, MiB: a runaway job fails alone. @defaultValue 1024 */
  readonly threadMaxHeapMb?: number;
  /**
   * Cluster coordinators (jobs of a region's flow, `region/coordinator-jobs.ts`) this process runs at once, beside
   * the migration jobs; 0 serves no coordinator jobs. @defaultValue 0
   */
  readonly coordinators?: number;
  /**
   * Lock duration of a cluster coordinator job, ms. A coordinator simulates on this process's event loop in stretches
   * of up to a second or two, so its lock (renewed at half this) needs more room than a migration job's.
   * @defaultValue 30000
   */
  readonly coordinatorLockDurationMs?: number;
  /** On SIGTERM/SIGINT, time to let running jobs finish before exiting anyway, ms. @defaultValue 30000 */
  readonly shutdownTimeoutMs?: number;
  /**
   * Store results deflated (zlib) in the run's results hash instead of as plain JSON; coordinators read both.
   * @defaultValue false (WORKER_DEFAULTS.compressResults)
   */
  readonly compressResults?: boolean;
}

/** Simulation threads per worker process at most: more threads than cores only add memory. */
export const MAX_SIMULATION_THREADS = 64;

/** Most jobs a worker takes at once. */
export const MAX_WORKER_CONCURRENCY = 256;

export const WORKER_DEFAULTS = {
  concurrency: 2,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
  /**
   * Assumption, not a measurement: a migration job simulates a VM in counts (mmu-aggregate) and needs a few MiB;
   * 1 GiB per thread leaves two orders of magnitude of room while still stopping a runaway job before the host does.
   */
  threadMaxHeapMb: 1024,
  shutdownTimeoutMs: 30_000,
  coordinators: 0,
  coordinatorLockDurationMs: 30_000,
  /**
   * Results are stored as plain JSON: deflating a ~5.4 KB migration result costs ~30 µs of CPU and inflating it
   * ~10 µs, as much as simulating the migration (~35 µs), for a 5× smaller entry in Redis (~1.1 KB). Results stay in
   * Redis for a cluster's whole run (its resume state) and are deleted when the region is written, so turn this on
   * (COMPRESS_RESULTS=1) when Redis memory, not CPU, is the limit: ~5.4 KB × the migrations of the clusters running.
   */
  compressResults: false,
} as const;

/** Cluster coordinators one process runs at once at most. */
export const MAX_COORDINATORS = 64;

export type ResolvedWorkerOptions = Required<Omit<WorkerOptions, 'metrics'>> & Pick<WorkerOptions, 'metrics'>;

/** The options with every default filled in; throws a RangeError with a plain message on values out of range. */
export function resolveWorkerOptions(o: WorkerOptions): ResolvedWorkerOptions {
  const concurrency = o.concurrency ?? WORKER_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_WORKER_CONCURRENCY) {
    throw new RangeError(`concurrency must be an integer from 1 to ${MAX_WORKER_CONCURRENCY} (got ${concurrency})`);
  }
  const threads = o.threads ?? Math.min(concurrency, MAX_SIMULATION_THREADS);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_SIMULATION_THREADS) {
    throw new RangeError(`threads must be an integer from 1 to ${MAX_SIMULATION_THREADS} (got ${threads})`);
  }
  const coordinators = o.coordinators ?? WORKER_DEFAULTS.coordinators;
  if (!Number.isInteger(coordinators) || coordinators < 0 || coordinators > MAX_COORDINATORS) {
    throw new RangeError(`coordinators must be an integer from 0 to ${MAX_COORDINATORS} (got ${coordinators})`);
  }
  return {
    ...o,
    concurrency,
    coordinators,
    coordinatorLockDurationMs: o.coordinatorLockDurationMs ?? WORKER_DEFAULTS.coordinatorLockDurationMs,
    threads,
    lockDurationMs: o.lockDurationMs ?? WORKER_DEFAULTS.lockDurationMs,
    stalledIntervalMs: o.stalledIntervalMs ?? WORKER_DEFAULTS.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount ?? WORKER_DEFAULTS.maxStalledCount,
    threadMaxHeapMb: o.threadMaxHeapMb ?? WORKER_DEFAULTS.threadMaxHeapMb,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? WORKER_DEFAULTS.shutdownTimeoutMs,
    compressResults: o.compressResults ?? WORKER_DEFAULTS.compressResults,
  };
}
