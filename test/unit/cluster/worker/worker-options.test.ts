import { describe, expect, it } from 'vitest';
import { ConfigInvalid } from '../../../../shared/src/cluster/config/errors/config-invalid.js';
import { workerOptionsFromEnv } from '../../../../shared/src/cluster/worker/worker-env.js';
import { MAX_SIMULATION_THREADS, resolveWorkerOptions, WORKER_DEFAULTS } from '../../../../shared/src/cluster/worker/worker-options.js';

const base = { redisUrl: 'redis://h:1', prefix: '{p}', connectTimeoutMs: 1000, metrics: undefined, logLevel: 'info' as const };

describe('worker options: defaults named once, no silent caps', () => {
  it('fills the defaults', () => {
    const o = resolveWorkerOptions(base);
    expect(o).toMatchObject({ concurrency: WORKER_DEFAULTS.concurrency, threads: WORKER_DEFAULTS.concurrency, maxStalledCount: 2, lockDurationMs: 30_000, stalledIntervalMs: 30_000, threadMaxHeapMb: 1024, shutdownTimeoutMs: 30_000 });
  });

  it('threads follow the concurrency up to the stated maximum; more threads than that is an error, not a cap', () => {
    expect(resolveWorkerOptions({ ...base, concurrency: 256 }).threads).toBe(MAX_SIMULATION_THREADS);
    expect(resolveWorkerOptions({ ...base, concurrency: 8, threads: 2 }).threads).toBe(2);
    expect(() => resolveWorkerOptions({ ...base, threads: MAX_SIMULATION_THREADS + 1 })).toThrow(/threads must be an integer from 1 to 64/);
    expect(() => workerOptionsFromEnv({ REDIS_URL: 'redis://h', WORKER_THREADS: '65' })).toThrow(ConfigInvalid);
  });

  it('reads every setting from the environment', () => {
    const o = workerOptionsFromEnv({ REDIS_URL: 'redis://h', WORKER_CONCURRENCY: '4', WORKER_THREADS: '3', MAX_STALLED_COUNT: '0', LOCK_DURATION_MS: '5000', METRICS_PORT: '0', REDIS_CONNECT_TIMEOUT_MS: '250' });
    expect(o).toMatchObject({ concurrency: 4, threads: 3, maxStalledCount: 0, lockDurationMs: 5000, metrics: { host: '127.0.0.1', port: 0 }, connectTimeoutMs: 250 });
  });

  it('stores results as plain JSON unless COMPRESS_RESULTS=1', () => {
    expect(resolveWorkerOptions(base).compressResults).toBe(false);
    expect(resolveWorkerOptions(workerOptionsFromEnv({ REDIS_URL: 'redis://h', COMPRESS_RESULTS: '1' })).compressResults).toBe(true);
    expect(resolveWorkerOptions(workerOptionsFromEnv({ REDIS_URL: 'redis://h', COMPRESS_RESULTS: '0' })).compressResults).toBe(false);
    expect(() => workerOptionsFromEnv({ REDIS_URL: 'redis://h', COMPRESS_RESULTS: 'yes' })).toThrow(ConfigInvalid);
  });
});
