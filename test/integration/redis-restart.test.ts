import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, migsim, migsimAsync, sleep, startWorker, stopAll, testPrefix, waitExit } from '../helpers/cluster.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const MEDIUM = 'test/fixtures/scenarios/medium.yaml';
let dir: string;
/** A Redis of the test's own, with AOF on (in `dir`, kept over restarts), that the test stops and restarts. */
let redis: RedisServer;
let URL: string;

/** Starts the Redis again on its port, reloading the AOF. */
async function restartRedis(): Promise<void> {
  redis = await startRedisServer({ appendonly: true, dir, port: redis.port });
}

/** Jobs the coordinator has taken in (from its progress key: results are trimmed from Redis once checkpointed). */
async function results(prefix: string): Promise<number> {
  const r = new Redis(URL, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    let n = 0;
    for (const k of await r.keys(`${prefix}:run:*:progress`)) n += (JSON.parse((await r.get(k)) ?? '{}') as { jobsDone?: number }).jobsDone ?? 0;
    return n;
  } catch {
    return 0;
  } finally {
    r.disconnect();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'migsim-aof-'));
  redis = await startRedisServer({ appendonly: true, dir });
  URL = redis.url;
});

afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis restarted during a run (AOF on)', () => {
  it('the run completes with the undisturbed digest', async () => {
    const expected = digestOf(migsim(['run', MEDIUM, '--quiet', '--out', '/tmp/migsim-test-aof-embedded']).stdout)!;
    const prefix = testPrefix();
    const workers = [startWorker(prefix, { url: URL }), startWorker(prefix, { url: URL })];
    try {
      const run = migsimAsync(['run', MEDIUM, '--quiet', '--redis', URL, '--out', mkdtempSync(join(tmpdir(), 'migsim-test-aof-out-'))], { QUEUE_PREFIX: prefix });
      const done = waitExit(run, 240_000);
      for (let i = 0; i < 300 && (await results(prefix)) < 100; i++) await sleep(50);
      expect(await results(prefix)).toBeGreaterThanOrEqual(100);
      // A clean shutdown (SIGTERM) flushes the AOF; the restart reloads it.
      await redis.stop();
      await sleep(1500);
      await restartRedis();
      const r = await done;
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code).toBe(0);
      expect(digestOf(r.stdout)).toBe(expected);
    } finally {
      await stopAll(workers);
    }
  });

  it('with Redis gone for good, the coordinator and the workers give up with a clear message', async () => {
    const prefix = testPrefix();
    const worker = startWorker(prefix, { url: URL, env: { SHUTDOWN_TIMEOUT_MS: '3000' } });
    await sleep(1500);
    await new Promise<void>((resolve) => {
      redis.proc.once('exit', () => resolve());
      redis.proc.kill('SIGKILL');
    });
    const r = migsim(['run', 'quick', '--quiet', '--redis', URL], {}, 60_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Redis/);
    worker.kill('SIGTERM');
    const w = await waitExit(worker, 60_000);
    expect(w.code).not.toBeNull();
    await restartRedis();
  });
});
