/**
 * Queue and key names. Everything lives under one prefix with a Redis Cluster hash tag (`{migsim}` by default), so
 * a queue's keys and a run's keys hash to one slot and multi-key scripts work on Redis Cluster.
 */
export const JOBS_QUEUE = 'jobs';
/** BullMQ job name of a batch of migration jobs on the jobs queue (a single job's name is `job`). */
export const BATCH_JOB_NAME = 'batch';
/** BullMQ job name of a single migration job on the jobs queue. */
export const SINGLE_JOB_NAME = 'job';
export const DEFAULT_PREFIX = '{migsim}';

/** Hash of job id → result JSON for one run: the run's durable state (a re-sent job is answered from here). */
export function resultsKey(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:results`;
}

/** The coordinator's progress for one run (JSON). */
export function progressKey(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:progress`;
}

/** Jobs that failed for good (id → reason), so the coordinator can stop instead of waiting. */
export function failuresKey(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:failures`;
}

/** What a run id may hold: it becomes part of Redis keys and job ids (BullMQ job ids must not contain ':'). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
