import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../shared/src/cluster/queue/queue-defaults.js';
import { JOBS_QUEUE, resultsKey } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis, type RedisClient } from '../../shared/src/cluster/queue/redis-connection.js';
import { cleanup, digestOf, migsim, migsimAsync, REDIS_URL, startWorker, stopAll, testPrefix, until, waitExit } from '../helpers/cluster.js';

/**
 * Drill: a rogue producer floods the jobs queue with malformed and oversized payloads (asking for retries and for
 * failed jobs to be kept) while a normal run goes through the same workers. Every bad job fails alone, once, with a
 * reason; the run is unaffected; the workers keep serving; neither the workers nor Redis hold on to the payloads.
 */
const MiB = 2 ** 20;
const WORKERS = 2;
const CONCURRENCY = 2;
/**
 * The oversized payloads of one wave (their `junk` string's length): enough of the largest for every worker to hold
 * CONCURRENCY of them at once. Waves go one after another (a wave fails before the next is sent).
 */
const WAVE = [...Array.from({ length: WORKERS * CONCURRENCY }, () => 8 * MiB), 1 * MiB, MAX_PAYLOAD_BYTES + 4 * 1024];
/** Waves of oversized payloads (12 × 33 MiB). */
const WAVES = 12;
const LARGEST = Math.max(...WAVE);
const MALFORMED = 300;

/**
 * How much a worker's peak RSS (VmHWM) may grow over the flood. Fetching one job of L bytes materialises it about
 * four times in the worker, all inside BullMQ/ioredis before our code runs: the socket's read buffers, the reply's
 * chunk strings, the flattened reply string, and JSON.parse's copy in job.data (the size check walks job.data without
 * copying anything, see jsonSizeUpTo, and the rejected data is dropped at once). A worker holds at most CONCURRENCY
 * jobs at a time: CONCURRENCY × LARGEST × 4 = 64 MiB. On top of that comes garbage not yet collected: V8 collects
 * lazily (a full GC is forced only once external memory has grown by 64 MiB, and the old generation grows by a
 * heap-growing factor before its next mark-compact), and freed memory stays resident a while. GC_SLACK allows
 * 192 MiB of it, so 256 MiB of growth in all. Measured on a 2-core machine (Node 20): 130-200 MiB, levelling off after
 * ~10 waves however many follow (one worker, 40 waves of 2 × 8 MiB: +190 MiB).
 * A worker that kept the rejected payloads would grow by its share of the 12 waves' 384 MiB (192 MiB on average)
 * on top: measured 290-355 MiB, over the bound.
 */
const GC_SLACK = 192 * MiB;
const RSS_GROWTH_BOUND = CONCURRENCY * LARGEST * 4 + GC_SLACK;

const VALID_JOB = { vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } };
/** What a rogue producer may ask for: retries, and to keep every failed job. */
const ROGUE_OPTS = { attempts: 5, backoff: { type: 'fixed' as const, delay: 10 }, removeOnFail: false, removeOnComplete: false };

interface Bad {
  readonly jobId: string;
  readonly data: unknown;
  /** What the failed reason must say. */
  readonly reason: RegExp;
  /** For an oversized payload: its size is at least this. */
  readonly minBytes?: number;
}

/** The malformed payloads: each category fails on one named field (or the top level). */
function malformed(n: number): Bad[] {
  const nonObjects: unknown[] = ['a string', 42, null, [1, 2, 3], true];
  const out: Bad[] = [];
  for (let i = 0; i < n; i++) {
    const jobId = `bad-${i}`;
    switch (i % 6) {
      case 0:
        out.push({ jobId, data: { run_id: 'flood', id: `m${i}` }, reason: /^invalid job payload: job: / });
        break;
      case 1:
        out.push({ jobId, data: { run_id: 'flood', id: i, job: VALID_JOB }, reason: /^invalid job payload: id: .*expected string/ });
        break;
      case 2:
        out.push({ jobId, data: { run_id: 'flood', id: `a:b:${i}`, job: VALID_JOB }, reason: /^invalid job payload: id: .*no colon/ });
        break;
      case 3:
        out.push({ jobId, data: nonObjects[i % nonObjects.length], reason: /^invalid job payload: \(top level\): .*expected object/ });
        break;
      case 4:
        out.push({ jobId, data: { run_id: 'flood', id: `u${i}`, job: VALID_JOB, [`evil_${i}`]: { x: 1 } }, reason: new RegExp(`^invalid job payload: \\(top level\\): Unrecognized key.*evil_${i}`) });
        break;
      default:
        out.push({ jobId, data: { run_id: 'flood', id: `n${i}`, job: { vm: { ...VALID_JOB.vm, ram_bytes: -1 } } }, reason: /^invalid job payload: job\.vm\.ram_bytes: / });
    }
  }
  return out;
}

/** Peak resident set size of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]) * 1024;
}

function worker(prefix: string): { proc: ChildProcess; log: () => string } {
  const proc = startWorker(prefix, { concurrency: CONCURRENCY });
  let log = '';
  // Drain the output: the worker logs a warning per failed job, and a full pipe would block it.
  proc.stdout?.on('data', (d) => (log += d));
  proc.stderr?.on('data', (d) => (log = (log + d).slice(-20_000)));
  return { proc, log: () => log };
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(0);

async function memoryUsage(redis: RedisClient, key: string): Promise<number> {
  return Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
}

describe('drill: a flood of malformed and oversized payloads', () => {
  let embeddedQuick: string;
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];

  beforeAll(() => {
    const q = migsim(['run', 'quick', '--quiet', '--out', '/tmp/migsim-test-flood-embedded']);
    expect(q.status).toBe(0);
    embeddedQuick = digestOf(q.stdout)!;
    expect(embeddedQuick).toMatch(/^[0-9a-f]{64}$/);
  });

  afterEach(async () => {
    await stopAll(procs.splice(0));
    for (const p of prefixes.splice(0)) await cleanup(p);
  });

  it('fails every bad job once with its reason; the run, the workers and Redis are unaffected', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const workers = Array.from({ length: WORKERS }, () => worker(prefix));
    procs.push(...workers.map((w) => w.proc));
    const conn = createRedis(REDIS_URL, { blocking: true });
    await conn.connect();
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    const queue = new Queue(JOBS_QUEUE, { connection: conn, prefix });
    try {
      // Warm up (threads, code paths, heaps) under another run id, so the peak RSS below is that of a serving worker.
      const warm = migsim(['run', 'quick', '--quiet', '--redis', REDIS_URL, '--run-id', 'drill-warmup', '--out', '/tmp/migsim-test-flood-warmup'], { QUEUE_PREFIX: prefix });
      expect(warm.status, warm.stderr).toBe(0);
      const before = workers.map((w) => peakRss(w.proc.pid!));

      const run = migsimAsync(['run', 'quick', '--quiet', '--redis', REDIS_URL, '--out', '/tmp/migsim-test-flood'], { QUEUE_PREFIX: prefix });
      procs.push(run);
      const done = waitExit(run, 90_000);

      const bad = malformed(MALFORMED);
      for (let i = 0; i < bad.length; i += 50) {
        await queue.addBulk(bad.slice(i, i + 50).map((b) => ({ name: 'job', data: b.data, opts: { ...ROGUE_OPTS, jobId: b.jobId } })));
      }
      // Oversized payloads, one wave at a time: a wave fails before the next is sent, so Redis holds one wave at most.
      const oversized: Bad[] = [];
      for (let w = 0; w < WAVES; w++) {
        const wave = WAVE.map((size, j) => ({
          jobId: `big-${w}-${j}`,
          data: { run_id: 'flood', id: `big-${w}-${j}`, job: VALID_JOB, junk: 'x'.repeat(size) },
          reason: new RegExp(`^payload of at least \\d+ bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit$`),
          minBytes: size,
        }));
        for (const b of wave) await queue.add('job', b.data, { ...ROGUE_OPTS, jobId: b.jobId });
        oversized.push(...wave.map((b) => ({ ...b, data: undefined })));
        const expected = bad.length + oversized.length;
        await until(`wave ${w} to fail`, 30_000, async () => (await queue.getFailedCount()) >= expected);
        // Stop at once if the payloads stay in Redis (this Redis is shared: don't pile up 12 × 33 MiB).
        expect(await memoryUsage(redis, `${prefix}:${JOBS_QUEUE}:big-${w}-0`), `wave ${w}: oversized data left in Redis`).toBeLessThan(4096);
      }
      const after = workers.map((w) => peakRss(w.proc.pid!));
      const figures = `peak RSS (MiB) before ${before.map(mib).join(', ')}, after ${after.map(mib).join(', ')}; bound: +${mib(RSS_GROWTH_BOUND)}`;
      for (let i = 0; i < WORKERS; i++) expect(after[i]! - before[i]!, figures).toBeLessThanOrEqual(RSS_GROWTH_BOUND);

      // The run went through the flood untouched.
      const r = await done;
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code, r.stderr).toBe(0);
      expect(digestOf(r.stdout)).toBe(embeddedQuick);

      // Every bad job failed, once (no retry despite attempts: 5), with a reason naming the problem.
      const failed = new Map((await queue.getFailed(0, -1)).map((j) => [j.id, j]));
      expect(failed.size).toBe(bad.length + oversized.length);
      for (const b of [...bad, ...oversized]) {
        const j = failed.get(b.jobId);
        expect(j, b.jobId).toBeDefined();
        expect(j!.failedReason, b.jobId).toMatch(b.reason);
        expect(j!.attemptsMade, b.jobId).toBe(1);
        if (b.minBytes !== undefined) expect(Number(/at least (\d+)/.exec(j!.failedReason)![1])).toBeGreaterThan(b.minBytes);
      }
      // The oversized payloads are gone from Redis although the producer asked to keep failed jobs: each failed job
      // keeps a stub and its reason, and the whole queue (the failed jobs, the failed set, the events stream) takes
      // well under a MiB where the payloads were 12 × 33 MiB.
      for (const b of oversized) {
        const j = failed.get(b.jobId)!;
        expect(j.data).toEqual({ rejected: j.failedReason });
        expect(await memoryUsage(redis, `${prefix}:${JOBS_QUEUE}:${b.jobId}`), b.jobId).toBeLessThan(4096);
      }
      let queueBytes = 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:${JOBS_QUEUE}:*`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) queueBytes += await memoryUsage(redis, k);
      } while (cursor !== '0');
      expect(queueBytes).toBeLessThan(2 * MiB);

      // The workers are alive and still serving.
      for (const w of workers) expect(w.proc.exitCode, w.log()).toBeNull();
      const ok = Array.from({ length: 4 }, (_, i) => `after-${i}`);
      await queue.addBulk(ok.map((id) => ({ name: 'job', data: { run_id: 'drill-after', id, job: VALID_JOB }, opts: { jobId: id } })));
      await until('valid jobs after the flood', 30_000, async () => (await redis.hlen(resultsKey(prefix, 'drill-after'))) === ok.length);
    } finally {
      await queue.close();
      conn.disconnect();
      redis.disconnect();
    }
  }, 120_000);
});
