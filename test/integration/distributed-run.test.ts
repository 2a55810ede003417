import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_QUEUE, resultsKey } from '../../shared/src/queue/queue-names.js';
import { cleanup, digestOf, migsim, migsimAsync, REDIS_URL, sleep, startWorker, stopAll, testPrefix, waitExit } from '../helpers/cluster.js';

const MEDIUM = 'test/fixtures/scenarios/medium.yaml';

let embeddedQuick: string;
let embeddedMedium: string;
const procs: ChildProcess[] = [];
const prefixes: string[] = [];

function prefix(): string {
  const p = testPrefix();
  prefixes.push(p);
  return p;
}

beforeAll(() => {
  const q = migsim(['run', 'quick', '--quiet', '--out', '/tmp/migsim-test-embedded-quick']);
  expect(q.status).toBe(0);
  embeddedQuick = digestOf(q.stdout)!;
  const m = migsim(['run', MEDIUM, '--quiet', '--out', '/tmp/migsim-test-embedded-medium']);
  expect(m.status).toBe(0);
  embeddedMedium = digestOf(m.stdout)!;
  expect(embeddedQuick).toMatch(/^[0-9a-f]{64}$/);
});

afterEach(async () => {
  await stopAll(procs.splice(0));
  for (const p of prefixes.splice(0)) await cleanup(p);
});

async function countResults(p: string, runIdFromStdout?: string): Promise<number> {
  const r = new Redis(REDIS_URL);
  try {
    const keys = await r.keys(`${p}:run:*:results`);
    let n = 0;
    for (const k of keys) n += await r.hlen(k);
    void runIdFromStdout;
    return n;
  } finally {
    r.disconnect();
  }
}

describe('coordinator and workers over BullMQ (real Redis)', () => {
  it('gives the embedded digest with 1 worker process and with 3', async () => {
    for (const n of [1, 3]) {
      const p = prefix();
      for (let i = 0; i < n; i++) procs.push(startWorker(p));
      const r = migsim(['run', 'quick', '--quiet', '--redis', REDIS_URL, '--out', `/tmp/migsim-test-w${n}`], { QUEUE_PREFIX: p });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(digestOf(r.stdout)).toBe(embeddedQuick);
      await stopAll(procs.splice(0));
    }
  });

  it('completes with the same digest when a worker is killed with SIGKILL mid-run', async () => {
    const p = prefix();
    const victim = startWorker(p);
    procs.push(victim, startWorker(p));
    const run = migsimAsync(['run', MEDIUM, '--quiet', '--redis', REDIS_URL, '--out', '/tmp/migsim-test-kill'], { QUEUE_PREFIX: p });
    procs.push(run);
    const done = waitExit(run, 180_000);
    for (let i = 0; i < 200 && (await countResults(p)) < 100; i++) await sleep(50);
    expect(await countResults(p)).toBeGreaterThanOrEqual(100);
    victim.kill('SIGKILL');
    const r = await done;
    expect(r.code).toBe(0);
    expect(digestOf(r.stdout)).toBe(embeddedMedium);
  });

  it('resumes after the coordinator is killed, without simulating finished jobs again', async () => {
    const p = prefix();
    procs.push(startWorker(p), startWorker(p));
    const first = migsimAsync(['run', MEDIUM, '--quiet', '--redis', REDIS_URL, '--out', '/tmp/migsim-test-resume'], { QUEUE_PREFIX: p });
    procs.push(first);
    const firstDone = waitExit(first, 180_000);
    for (let i = 0; i < 200 && (await countResults(p)) < 150; i++) await sleep(50);
    first.kill('SIGKILL');
    await firstDone;
    const before = await countResults(p);
    expect(before).toBeGreaterThanOrEqual(150);
    const second = migsim(['run', MEDIUM, '--quiet', '--redis', REDIS_URL, '--out', '/tmp/migsim-test-resume'], { QUEUE_PREFIX: p }, 180_000);
    expect(second.status).toBe(0);
    expect(digestOf(second.stdout)).toBe(embeddedMedium);
  });

  it('fails a malformed job alone with a clear reason; the worker keeps serving', async () => {
    const p = prefix();
    procs.push(startWorker(p));
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(JOBS_QUEUE, { connection: conn, prefix: p });
    try {
      await queue.add('job', { run_id: 'x', id: 'bad-1', job: { vm: { ram_bytes: -1 } } }, { jobId: 'bad-1', attempts: 3 });
      await queue.add('job', { run_id: 'x', id: 'bad-2', job: { vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } }, junk: 'x'.repeat(40_000) }, { jobId: 'bad-2' });
      let failed: string[] = [];
      for (let i = 0; i < 100; i++) {
        const jobs = await queue.getFailed();
        failed = jobs.map((j) => `${j.id}: ${j.failedReason}`);
        if (failed.length === 2) break;
        await sleep(100);
      }
      expect(failed.find((f) => f.startsWith('bad-1'))).toMatch(/invalid job payload: job\.vm/);
      expect(failed.find((f) => f.startsWith('bad-2'))).toMatch(/exceeds the 16384-byte limit/);
      const bad1 = await queue.getJob('bad-1');
      expect(bad1?.attemptsMade).toBe(1);
      const r = migsim(['run', 'quick', '--quiet', '--redis', REDIS_URL, '--out', '/tmp/migsim-test-malformed'], { QUEUE_PREFIX: p });
      expect(r.status).toBe(0);
      expect(digestOf(r.stdout)).toBe(embeddedQuick);
    } finally {
      await queue.close();
      conn.disconnect();
    }
  });

  it('says clearly and within seconds when Redis cannot be reached', () => {
    const t0 = Date.now();
    const r = migsim(['run', 'quick', '--quiet', '--redis', 'redis://:s3cret@127.0.0.1:1'], {}, 30_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const w = migsim(['worker', '--redis', 'redis://127.0.0.1:1'], {}, 30_000);
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/cannot reach Redis/);
  });

  it('keeps results under the run id in Redis (the durable run state)', async () => {
    const p = prefix();
    procs.push(startWorker(p));
    const r = migsim(['run', 'quick', '--quiet', '--redis', REDIS_URL, '--run-id', 'itest-run', '--out', '/tmp/migsim-test-runid'], { QUEUE_PREFIX: p });
    expect(r.status).toBe(0);
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.hlen(resultsKey(p, 'itest-run'))).toBe(Number(/: (\d+) jobs/.exec(r.stdout)![1]));
    } finally {
      redis.disconnect();
    }
  });
});
