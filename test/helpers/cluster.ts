import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { progressKey } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';

export const REDIS_URL = process.env.MIGSIM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = 'shared/bin/migsim.mjs';

/** A fresh key prefix (with a hash tag) per test, so tests never see each other's queues. */
export function testPrefix(): string {
  return `{migsim-test-${randomUUID().slice(0, 8)}}`;
}

/** Deletes every key under a prefix (on every master of a cluster). */
export async function cleanup(prefix: string, url: string = REDIS_URL): Promise<void> {
  const client = createRedis(url, { blocking: false });
  try {
    await client.connect();
    const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) await client.del(k);
      } while (cursor !== '0');
    }
  } catch {
    // Redis gone (a test stopped it): nothing to clean.
  } finally {
    client.disconnect();
  }
}

/**
 * Jobs a coordinator has applied so far, from the progress it writes to Redis (its results are trimmed from Redis
 * as they are checkpointed, so the results hash does not count them); 0 before the first write or without Redis.
 */
export async function jobsDone(prefix: string, runId: string, url: string = REDIS_URL): Promise<number> {
  const r = createRedis(url, { blocking: false });
  try {
    await r.connect();
    const v = await r.get(progressKey(prefix, runId));
    const p = v === null ? undefined : (JSON.parse(v) as { jobsDone?: number; done?: boolean });
    return p?.jobsDone ?? 0;
  } catch {
    return 0;
  } finally {
    r.disconnect();
  }
}

/** Starts `migsim worker` in its own process. */
export function startWorker(prefix: string, opts: { url?: string; concurrency?: number; env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, [BIN, 'worker', '--redis', opts.url ?? REDIS_URL, '--prefix', prefix, '--concurrency', String(opts.concurrency ?? 2)], {
    env: { ...process.env, LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a migsim command to the end. */
export function migsim(args: string[], env: Record<string, string> = {}, timeoutMs: number = 120_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a migsim command without waiting. */
export function migsimAsync(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function waitExit(p: ChildProcess, timeoutMs: number = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  p.stdout?.on('data', (d) => (stdout += d));
  p.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function stopAll(ps: ChildProcess[]): Promise<void> {
  await Promise.all(
    ps.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGTERM');
          setTimeout(() => p.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
}

export const digestOf = (stdout: string): string | undefined => /digest ([0-9a-f]{64})/.exec(stdout)?.[1];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns true (errors count as not yet); the timeout's error names `what` and the last error. */
export async function until(what: string, timeoutMs: number, f: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await f()) return;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
