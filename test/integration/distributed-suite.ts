import { MAX_PAYLOAD_BYTES } from '../../shared/src/cluster/queue/queue-defaults.js';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runIdFor } from '../../shared/src/cluster/experiment/run-experiment.js';
import { JOBS_QUEUE, progressKey, resultsKey } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';
import { cleanup, digestOf, jobsDone, migsim, migsimAsync, sleep, startWorker, stopAll, testPrefix, waitExit } from '../helpers/cluster.js';

const MEDIUM = 'test/fixtures/scenarios/medium.yaml';
const QUICK = 'scenarios/quick.yaml';

/**
 * The reliability suite of the coordinator and workers over BullMQ, against the Redis at `url()` (a single
 * server or a cluster).
 */
export function distributedSuite(label: string, url: () => string): void {
  let embeddedQuick: string;
  let embeddedMedium: string;
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];
  const prefix = (): string => {
    const p = testPrefix();
    prefixes.push(p);
    return p;
  };

  /** Results stored in Redis for a run (with an output folder, only those in flight: the rest are checkpointed). */
  async function results(p: string, scenarioFile: string, runId?: string): Promise<number> {
    const r = createRedis(url(), { blocking: false });
    try {
      await r.connect();
      return await r.hlen(resultsKey(p, runId ?? runIdFor(loadScenario(scenarioFile))));
    } catch {
      return 0;
    } finally {
      r.disconnect();
    }
  }
  const applied = (p: string, scenarioFile: string): Promise<number> => jobsDone(p, runIdFor(loadScenario(scenarioFile)), url());

  describe(`coordinator and workers over BullMQ (${label})`, () => {
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
      for (const p of prefixes.splice(0)) await cleanup(p, url());
    });

    it('gives the embedded digest with 1 worker process and with 3', async () => {
      for (const n of [1, 3]) {
        const p = prefix();
        for (let i = 0; i < n; i++) procs.push(startWorker(p, { url: url() }));
        const r = migsim(['run', 'quick', '--quiet', '--redis', url(), '--out', `/tmp/migsim-test-w${n}`], { QUEUE_PREFIX: p });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(digestOf(r.stdout)).toBe(embeddedQuick);
        await stopAll(procs.splice(0));
      }
    });

    it('completes with the same digest when a worker is killed with SIGKILL mid-run', async () => {
      const p = prefix();
      const victim = startWorker(p, { url: url() });
      procs.push(victim, startWorker(p, { url: url() }));
      const run = migsimAsync(['run', MEDIUM, '--quiet', '--redis', url(), '--out', mkdtempSync(join(tmpdir(), 'migsim-test-kill-'))], { QUEUE_PREFIX: p });
      procs.push(run);
      const done = waitExit(run, 180_000);
      for (let i = 0; i < 300 && (await applied(p, MEDIUM)) < 100; i++) await sleep(50);
      expect(await applied(p, MEDIUM)).toBeGreaterThanOrEqual(100);
      victim.kill('SIGKILL');
      const r = await done;
      expect(r.code).toBe(0);
      expect(digestOf(r.stdout)).toBe(embeddedMedium);
    });

    it('resumes after the coordinator is killed, from its results checkpoint, without simulating finished jobs again', async () => {
      const p = prefix();
      const out = mkdtempSync(join(tmpdir(), 'migsim-test-resume-'));
      const checkpoint = join(out, 'results.checkpoint.ndjson');
      const lines = (): number => (existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8').split('\n').length - 1 : 0);
      procs.push(startWorker(p, { url: url() }), startWorker(p, { url: url() }));
      const first = migsimAsync(['run', MEDIUM, '--quiet', '--redis', url(), '--out', out], { QUEUE_PREFIX: p });
      procs.push(first);
      const firstDone = waitExit(first, 180_000);
      for (let i = 0; i < 300 && lines() < 150; i++) await sleep(50);
      // Results are appended, then trimmed, a group at a time, and the next group is appended only once the last was
      // trimmed: so once the file has grown past `taken` lines, those lines' results have left Redis. (A kill right
      // after an append would leave that one group in both: the coordinator re-reads it from the file on resume.)
      const taken = lines();
      for (let i = 0; i < 300 && lines() <= taken; i++) await sleep(20);
      first.kill('SIGKILL');
      await firstDone;
      expect(taken).toBeGreaterThanOrEqual(150);
      // Whole lines only: the coordinator may have been killed mid-write (it drops a torn last line on resume too).
      const ids = readFileSync(checkpoint, 'utf8').split('\n').slice(0, taken).map((l) => (JSON.parse(l) as { id: string }).id);
      const redis = createRedis(url(), { blocking: false });
      try {
        await redis.connect();
        const stored = await redis.hmget(resultsKey(p, runIdFor(loadScenario(MEDIUM))), ...ids);
        expect(stored.filter((v) => v !== null)).toEqual([]);
      } finally {
        redis.disconnect();
      }
      const second = migsim(['run', MEDIUM, '--quiet', '--redis', url(), '--out', out], { QUEUE_PREFIX: p }, 180_000);
      expect(second.status, second.stderr).toBe(0);
      expect(digestOf(second.stdout)).toBe(embeddedMedium);
      // Done: the checkpoint and the run's results hash are gone; the outputs hold everything.
      expect(existsSync(checkpoint)).toBe(false);
      expect(await results(p, MEDIUM)).toBe(0);
    });

    it('fails a malformed job alone with a clear reason; the worker keeps serving', async () => {
      const p = prefix();
      procs.push(startWorker(p, { url: url() }));
      const conn = createRedis(url(), { blocking: true });
      await conn.connect();
      const queue = new Queue(JOBS_QUEUE, { connection: conn, prefix: p });
      try {
        await queue.add('job', { run_id: 'x', id: 'bad-1', job: { vm: { ram_bytes: -1 } } }, { jobId: 'bad-1', attempts: 3 });
        await queue.add('job', { run_id: 'x', id: 'bad-2', job: { vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } }, junk: 'x'.repeat(MAX_PAYLOAD_BYTES + 4096) }, { jobId: 'bad-2' });
        let failed: string[] = [];
        for (let i = 0; i < 100; i++) {
          failed = (await queue.getFailed()).map((j) => `${j.id}: ${j.failedReason}`);
          if (failed.length === 2) break;
          await sleep(100);
        }
        expect(failed.find((f) => f.startsWith('bad-1'))).toMatch(/invalid job payload: job\.vm/);
        expect(failed.find((f) => f.startsWith('bad-2'))).toContain(`exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
        expect((await queue.getJob('bad-1'))?.attemptsMade).toBe(1);
        const r = migsim(['run', 'quick', '--quiet', '--redis', url(), '--out', '/tmp/migsim-test-malformed'], { QUEUE_PREFIX: p });
        expect(r.status).toBe(0);
        expect(digestOf(r.stdout)).toBe(embeddedQuick);
      } finally {
        await queue.close();
        conn.disconnect();
      }
    });

    it('leaves a finished run’s progress (done, digest) under its run id and none of its results in Redis', async () => {
      const p = prefix();
      procs.push(startWorker(p, { url: url() }));
      const out = mkdtempSync(join(tmpdir(), 'migsim-test-runid-'));
      const r = migsim(['run', 'quick', '--quiet', '--redis', url(), '--run-id', 'itest-run', '--out', out], { QUEUE_PREFIX: p });
      expect(r.status).toBe(0);
      expect(await results(p, QUICK, 'itest-run')).toBe(0);
      const redis = createRedis(url(), { blocking: false });
      try {
        await redis.connect();
        const progress = JSON.parse((await redis.get(progressKey(p, 'itest-run')))!) as { done: boolean; digest: string };
        expect(progress).toMatchObject({ done: true, digest: digestOf(r.stdout) });
      } finally {
        redis.disconnect();
      }
      expect(existsSync(join(out, 'results.checkpoint.ndjson'))).toBe(false);
    });
  });
}
