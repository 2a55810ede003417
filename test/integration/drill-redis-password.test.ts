import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, digestOf, migsim, migsimAsync, startWorker, stopAll, testPrefix } from '../helpers/cluster.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/**
 * Drill: a Redis with `requirepass`. The coordinator and the workers run with the password in their Redis URL (as
 * a flag and as REDIS_URL), at debug/info log levels; the run gives the embedded digest, and no output of any process
 * shows the password. A wrong or missing password is a one-line error with exit code 2.
 */
// Random, so that finding it in an output cannot be a coincidence; with characters that need URL encoding.
const SECRET = randomBytes(12).toString('hex');
const PASSWORD = `Drill-${SECRET}@/:%#`;
/** Every form the password could leak in. */
const FORMS = [SECRET, PASSWORD, encodeURIComponent(PASSWORD)];

/** A process's output, collected from the start (a late listener would miss lines). */
function collect(proc: ChildProcess): { proc: ChildProcess; stdout: () => string; stderr: () => string; output: () => string; exit: Promise<number | null> } {
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d) => (stdout += d));
  proc.stderr?.on('data', (d) => (stderr += d));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, stdout: () => stdout, stderr: () => stderr, output: () => `${stdout}${stderr}`, exit };
}

function expectNoPassword(label: string, text: string): void {
  for (const form of FORMS) expect(text.includes(form), `${label} shows the password:\n${text}`).toBe(false);
}

describe('drill: Redis with a password', () => {
  let server: RedisServer;
  let embeddedQuick: string;
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    const q = migsim(['run', 'quick', '--quiet', '--out', '/tmp/migsim-test-password-embedded']);
    expect(q.status).toBe(0);
    embeddedQuick = digestOf(q.stdout)!;
    expect(embeddedQuick).toMatch(/^[0-9a-f]{64}$/);
    server = await startRedisServer({ password: PASSWORD });
    expect(server.url).toBe(`redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}`);
  });

  afterEach(async () => {
    await stopAll(procs.splice(0));
    for (const p of prefixes.splice(0)) await cleanup(p, server.url);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('runs with the password in the URL and never prints it', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const redacted = `redis://:***@127.0.0.1:${server.port}`;
    // One worker takes the URL as --redis, the other from REDIS_URL.
    const a = collect(startWorker(prefix, { url: server.url, env: { LOG_LEVEL: 'debug' } }));
    const b = collect(
      migsimAsync(['worker', '--prefix', prefix, '--concurrency', '2'], { REDIS_URL: server.url, LOG_LEVEL: 'info', LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' }),
    );
    procs.push(a.proc, b.proc);
    // Not --quiet: the progress lines are output too.
    const run = collect(migsimAsync(['run', 'quick', '--redis', server.url, '--out', '/tmp/migsim-test-password'], { QUEUE_PREFIX: prefix, REDIS_URL: server.url, LOG_LEVEL: 'debug' }));
    procs.push(run.proc);
    const code = await Promise.race([run.exit, new Promise<string>((r) => setTimeout(() => r('timed out'), 60_000))]);
    expect(code, run.output()).toBe(0);
    expect(digestOf(run.output())).toBe(embeddedQuick);
    const runId = /coordinating run (\S+)/.exec(run.output())?.[1];
    expect(runId, run.output()).toBeDefined();

    const status = migsim(['status', '--redis', server.url, '--run-id', runId!, '--prefix', prefix], {}, 30_000);
    expect(status.status, status.stderr).toBe(0);
    // Done: the coordinator's progress says so with the digest; every result was taken in and trimmed from Redis.
    expect(JSON.parse(status.stdout)).toMatchObject({ run_id: runId, results_in_redis: 0, progress: { done: true, digest: digestOf(run.output()) } });

    // Stop the workers the normal way, so their shutdown logs are part of what is checked.
    await stopAll([a.proc, b.proc]);
    expect(await a.exit).toBe(0);
    expect(await b.exit).toBe(0);
    expectNoPassword('worker (--redis)', a.output());
    expectNoPassword('worker (REDIS_URL)', b.output());
    expectNoPassword('coordinator', run.output());
    expectNoPassword('status', status.stdout + status.stderr);
    // The workers did log their connection, redacted (so the check above looked at real logs).
    for (const w of [a, b]) {
      expect(w.output()).toContain(`"redis":"${redacted}"`);
      expect(w.output()).toMatch(/"msg":"worker stopped"/);
    }
  });

  it('a wrong or missing password is a one-line error, exit code 2, without the password', async () => {
    const wrong = `Wrong-${randomBytes(8).toString('hex')}`;
    const cases = [
      { label: 'wrong password', url: `redis://:${wrong}@127.0.0.1:${server.port}`, reason: /WRONGPASS/, shown: `redis://:***@127.0.0.1:${server.port}` },
      { label: 'wrong user and password', url: `redis://someone:${wrong}@127.0.0.1:${server.port}`, reason: /WRONGPASS/, shown: `redis://someone:***@127.0.0.1:${server.port}` },
      { label: 'no password', url: `redis://127.0.0.1:${server.port}`, reason: /NOAUTH/, shown: `redis://127.0.0.1:${server.port}` },
    ];
    const attempts = cases.flatMap((c) =>
      [
        ['run', 'quick', '--quiet', '--redis', c.url, '--out', '/tmp/migsim-test-password-wrong'],
        ['worker', '--redis', c.url, '--prefix', testPrefix()],
        ['status', '--redis', c.url, '--run-id', 'x'],
      ].map((args) => {
        const p = collect(migsimAsync(args, { LOG_LEVEL: 'debug' }));
        procs.push(p.proc);
        return { c, args, p, t0: Date.now() };
      }),
    );
    for (const { c, args, p, t0 } of attempts) {
      const code = await Promise.race([p.exit, new Promise<string>((r) => setTimeout(() => r('timed out'), 30_000))]);
      const stderr = p.stderr();
      const what = `${c.label}, migsim ${args[0]}: ${p.output()}`;
      expect(code, what).toBe(2);
      expect(Date.now() - t0, what).toBeLessThan(15_000);
      expect(p.stdout(), what).toBe('');
      // One line: what, where (redacted) and Redis's own reason; no stack trace.
      expect(stderr, what).toMatch(/^migsim: (--redis: )?cannot reach Redis at \S+: [^\n]+\n$/);
      expect(stderr, what).toContain(`cannot reach Redis at ${c.shown}:`);
      expect(stderr, what).toMatch(c.reason);
      expect(stderr, what).not.toMatch(/\n\s+at /);
      expect(p.output().includes(wrong), what).toBe(false);
      expectNoPassword(what, p.output());
    }
  });
});
