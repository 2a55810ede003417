/**
 * The queue's defaults, in one place with their units. Job options are written into every job hash, so they stay
 * few; each is a choice with a reason, not a tuning knob left at a library default.
 */

/**
 * Largest job payload a worker accepts, in bytes of JSON (UTF-8). A migration job is about 1 KB plus its flow's rate
 * history, at most `RATE_HISTORY_MAX_POINTS` (5,000) points of two numbers each, ≤ 40 bytes a point: 200 KB.
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Most migration jobs one BullMQ job (a batch, see `batch-payload.ts`) carries. A migration job is ~0.2 ms of
 * simulation while a queue round trip (add, fetch, finish: three Lua scripts, plus the result write) costs Redis and
 * both processes more than that, so jobs travel in batches. 64 makes the queue's share per migration small (a
 * sixty-fourth of a round trip) while a batch stays a few milliseconds of work, well inside a lock's duration.
 */
export const MAX_BATCH_JOBS = 64;

/**
 * Largest batch payload a worker accepts, bytes of JSON. The coordinator closes a batch before it grows past this;
 * each job inside is still held to MAX_PAYLOAD_BYTES on its own. 4 MiB: 64 jobs of ~60 KB (a long rate history).
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** At most this many problems are listed in a payload rejection (a rogue payload may have thousands). */
export const MAX_LISTED_PAYLOAD_ISSUES = 8;

/** The events stream is read only by dashboards and debugging tools: BullMQ keeps the last this many events. */
export const EVENTS_MAX_LEN = 500;

/** Options of the BullMQ jobs the coordinator adds (see `BullmqTransportOptions`, which may override them). */
export interface JobQueueOptions {
  /**
   * Attempts per job before it fails for good. A job is a deterministic simulation whose result write is
   * idempotent, so a retry after a crash or a lost lock is safe.
   * @defaultValue 3
   */
  readonly attempts: number;
  /** First retry delay of the exponential backoff, ms (then 2×, 4×…). @defaultValue 200 */
  readonly backoffDelayMs: number;
  /**
   * Failed jobs BullMQ keeps for inspection (the failure is also stored in the run's failures hash).
   * @defaultValue 1000
   */
  readonly failedJobsKept: number;
}

export const JOB_QUEUE_DEFAULTS: JobQueueOptions = {
  attempts: 3,
  backoffDelayMs: 200,
  failedJobsKept: 1000,
};

/** How the coordinator collects results from the run's results hash. */
export interface ResultPollOptions {
  /** Longest pause between two polls when no result has arrived, ms (the pause doubles from 1 ms up to it). @defaultValue 50 */
  readonly maxPollMs: number;
  /** Job ids asked for in one HMGET. @defaultValue 500 */
  readonly idsPerRead: number;
  /**
   * Longest time between two reads of every pending id, ms. In between, a poll reads them only when the results
   * hash's field count (HLEN, one cheap command) has changed since the last read; a coordinator that trims results it
   * has taken (HDEL) can bring the count back to the same value while new results came in, and this bounds how long
   * such a result waits. @defaultValue 50
   */
  readonly fullReadIntervalMs: number;
}

export const RESULT_POLL_DEFAULTS: ResultPollOptions = {
  maxPollMs: 50,
  idsPerRead: 500,
  /** The longest pause between polls (maxPollMs): a result is never later than a poll of the old kind would be. */
  fullReadIntervalMs: 50,
};

/** How long a producer or a CLI command waits for Redis to answer before giving up, ms. */
export const REDIS_CONNECT_TIMEOUT_MS = 5000;

/**
 * How long a service that has connected once waits for a dropped connection to come back before giving up, ms (a
 * Redis restarted while a worker loads its threads: the blocking connection reconnects, retrying with backoff).
 */
export const REDIS_RECONNECT_GRACE_MS = 30_000;
