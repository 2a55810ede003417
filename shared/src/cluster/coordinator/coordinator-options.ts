import type { Progress } from '../fleet/progress.js';
import type { SimulationMetrics } from '../observability/simulation-metrics.js';
import { MAX_BATCH_JOBS, type JobQueueOptions, type ResultPollOptions } from '../queue/queue-defaults.js';
import type { Scenario } from '../scenario/scenario-schema.js';

/** Options of the coordinator (`Coordinator`); base units, the unit in the name; defaults in COORDINATOR_DEFAULTS. */
export interface CoordinatorOptions {
  readonly scenario: Scenario;
  /** Redis URL (redis://, rediss://, several host:port for a Cluster); never logged. */
  readonly redisUrl: string;
  /** Key prefix of the queues and the run's keys. @defaultValue `{migsim}` */
  readonly prefix?: string;
  /** The run's id; the same id resumes a run. @defaultValue derived from the scenario and seed (`runIdFor`) */
  readonly runId?: string | undefined;
  /** Write summary.json, jobs.csv and report.html here; nothing is written when omitted. */
  readonly outDir?: string | undefined;
  /**
   * With `outDir`: checkpoint results into `<outDir>/results.checkpoint.ndjson` as they arrive and trim them from
   * Redis; the file is deleted when the run completes. @defaultValue true
   */
  readonly checkpoint?: boolean;
  /** Serve /metrics, /healthz, /readyz here; none when omitted. */
  readonly metrics?: { readonly host: string; readonly port: number } | undefined;
  /**
   * Record into these metrics instead of the coordinator's own registry (a load generator running many runs in
   * one process); the owner serves them and sets the progress gauges.
   */
  readonly sharedMetrics?: SimulationMetrics | undefined;
  /** Give up connecting to Redis after this long, ms. @defaultValue 5000 */
  readonly connectTimeoutMs?: number;
  /** Least time between two writes of the run's progress to Redis, ms. @defaultValue 500 */
  readonly progressWriteIntervalMs?: number;
  /** Options of the jobs it adds (attempts, backoff, failed jobs kept). @defaultValue JOB_QUEUE_DEFAULTS */
  readonly jobs?: Partial<JobQueueOptions>;
  /** How it polls for results. @defaultValue RESULT_POLL_DEFAULTS */
  readonly poll?: Partial<ResultPollOptions>;
  /**
   * Migration jobs sent in one BullMQ job (a batch), from those ready in the same turn of the event loop; 1 sends
   * each as its own BullMQ job. @defaultValue 64 (MAX_BATCH_JOBS)
   */
  readonly jobsPerBatch?: number;
  readonly onProgress?: ((p: Progress) => void) | undefined;
  /** Each job's wall latency from queueing to result, in seconds. */
  readonly onJobLatency?: ((seconds: number) => void) | undefined;
}

export const COORDINATOR_DEFAULTS = {
  progressWriteIntervalMs: 500,
  jobsPerBatch: MAX_BATCH_JOBS,
  /** Checkpoint results to the output folder and trim them from Redis (see CoordinatorOptions.checkpoint). */
  checkpoint: true,
  /** Result fields removed from the results hash per HDEL, at most (bounds one command's size and Redis' pause). */
  trimChunk: 1000,
} as const;
