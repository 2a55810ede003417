import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runIdFor } from '../../shared/src/cluster/experiment/run-experiment.js';
import { resultsKey } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis, type RedisClient } from '../../shared/src/cluster/queue/redis-connection.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';
import { cleanup, digestOf, jobsDone, migsim, migsimAsync, REDIS_URL, sleep, startWorker, stopAll, testPrefix, waitExit } from '../helpers/cluster.js';

/**
 * Drill: workers die with SIGKILL again and again during a run (no graceful shutdown: their active jobs stay locked
 * until the stall checker moves them back to waiting). Each victim is replaced. The run must still finish with the
 * digest of the undisturbed embedded run.
 */
const MEDIUM = 'test/fixtures/scenarios/medium.yaml';
const WORKERS = 3;
/** Kill a worker each time the coordinator has taken in this many more results... */
const EVERY_RESULTS = 150;
/** ...this many times (medium has 1203 jobs, so the last kill is well before the end). */
const KILLS = 5;
/** A seeded choice of victims (mulberry32), so a failure can be replayed with the same kill order. */
const SEED = 20240611;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A worker whose output is drained (a full stderr pipe would block it) and kept for failure messages. */
function worker(prefix: string): { proc: ChildProcess; log: () => string } {
  const proc = startWorker(prefix);
  let log = '';
  proc.stdout?.on('data', (d) => (log += d));
  proc.stderr?.on('data', (d) => (log += d));
  return { proc, log: () => log };
}

describe('drill: workers killed with SIGKILL repeatedly during a run', () => {
  let embedded: string;
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];
  let redis: RedisClient;

  beforeAll(async () => {
    const m = migsim(['run', MEDIUM, '--quiet', '--out', '/tmp/migsim-test-drill-kills-embedded']);
    expect(m.status).toBe(0);
    embedded = digestOf(m.stdout)!;
    expect(embedded).toMatch(/^[0-9a-f]{64}$/);
    redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
  });

  afterEach(async () => {
    await stopAll(procs.splice(0));
    for (const p of prefixes.splice(0)) await cleanup(p);
  });

  afterAll(() => {
    redis?.disconnect();
  });

  it(`completes with the embedded digest while ${KILLS} workers are killed, one every ${EVERY_RESULTS} results`, async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const runId = runIdFor(loadScenario(MEDIUM));
    const key = resultsKey(prefix, runId);
    // Results taken in by the coordinator (they are checkpointed and trimmed from Redis, so its hash does not count them).
    const stored = (): Promise<number> => jobsDone(prefix, runId);
    const live = Array.from({ length: WORKERS }, () => worker(prefix));
    procs.push(...live.map((w) => w.proc));

    const run = migsimAsync(['run', MEDIUM, '--quiet', '--redis', REDIS_URL, '--out', mkdtempSync(join(tmpdir(), 'migsim-test-drill-kills-'))], { QUEUE_PREFIX: prefix });
    procs.push(run);
    const done = waitExit(run, 100_000);
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => {});

    const random = mulberry32(SEED);
    const kills: { at: number; victim: number; pid: number | undefined }[] = [];
    const deadline = Date.now() + 60_000;
    for (let k = 1; k <= KILLS; k++) {
      // Wait for the next threshold (or the run's end, which would be a failure of the drill itself).
      while (!finished && Date.now() < deadline && (await stored()) < k * EVERY_RESULTS) await sleep(25);
      if (finished || Date.now() >= deadline) break;
      const i = Math.floor(random() * live.length);
      const victim = live[i]!;
      const exited = new Promise<string | null>((resolve) => victim.proc.once('exit', (_code, signal) => resolve(signal)));
      victim.proc.kill('SIGKILL');
      expect(await Promise.race([exited, sleep(5000).then(() => 'still running')])).toBe('SIGKILL');
      kills.push({ at: await stored(), victim: i, pid: victim.proc.pid });
      const replacement = worker(prefix);
      procs.push(replacement.proc);
      live[i] = replacement;
    }
    // Every kill happened mid-run: a run that outpaced the drill proves nothing.
    expect(kills.length, `kills: ${JSON.stringify(kills)}`).toBe(KILLS);
    expect(new Set(kills.map((k) => k.pid)).size).toBe(KILLS);

    const r = await done;
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code, `stderr: ${r.stderr}\nworkers: ${live.map((w) => w.log()).join('\n')}`).toBe(0);
    expect(digestOf(r.stdout)).toBe(embedded);
    // The workers alive at the end kept serving (none crashed on its own).
    for (const w of live) expect(w.proc.exitCode, w.log()).toBeNull();
    // Done: no result is left in Redis (not even one a retried batch wrote again after it was trimmed).
    expect(await redis.hlen(key)).toBe(0);
  }, 120_000);
});
