import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanup, migsim, REDIS_URL, testPrefix } from '../helpers/cluster.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';

/** Bad input: exit 2, a message naming what is wrong, no stack trace, no internal error. */
function expectUsageError(args: string[], mentions: readonly string[], env: Record<string, string> = {}): { stdout: string; stderr: string } {
  const r = migsim(args, { MIGSIM_DEBUG: '', ...env });
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
  for (const m of mentions) expect(r.stderr, `message for ${args.join(' ')} mentions ${m}`).toContain(m);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/internal error/);
  return r;
}

describe('usage errors of run, compare and status (exit 2, the flag named, nothing lost)', () => {
  let dir = '';
  let runDir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'migsim-usage-'));
    runDir = join(dir, 'run');
    expect(migsim(['run', 'quick', '--quiet', '--out', runDir]).status).toBe(0);
  });

  it('run --seed with an empty value', () => {
    expectUsageError(['run', 'quick', '--quiet', '--seed', '', '--out', join(dir, 'never')], ['--seed:', "''"]);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('run --out where a folder cannot be made fails before the run', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = expectUsageError(['run', 'quick', '--quiet', '--out', join(file, 'sub')], ['--out:', file]);
    expect(r.stdout).toBe('');
  });

  it('compare with a missing folder, a malformed summary.json or a summary of something else', () => {
    expectUsageError(['compare', join(dir, 'missing'), runDir], [join(dir, 'missing')]);
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'summary.json'), '{not json');
    expectUsageError(['compare', bad, runDir], [join(bad, 'summary.json'), 'JSON']);
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'summary.json'), '{"scenario": "x"}');
    expectUsageError(['compare', runDir, other], [join(other, 'summary.json'), 'not a migsim run summary']);
  });

  it('compare --html to a path that cannot be written still prints the table', () => {
    const r = expectUsageError(['compare', runDir, runDir, '--html', join(dir, 'no-such-dir', 'c.html')], ['--html:', 'c.html']);
    expect(r.stdout).toContain('B - A');
    expect(readdirSync(dir)).not.toContain('no-such-dir');
  });

  it('status with a URL that is not redis:// (and without --redis)', () => {
    expectUsageError(['status', '--redis', 'http://localhost:6379', '--run-id', 'r'], ['--redis:']);
    expectUsageError(['status', '--run-id', 'r'], ['--redis']);
  });

  it('run --redis and status --redis with a port out of range name --redis, with the password redacted', () => {
    const url = 'redis://u:hunter2@127.0.0.1:99999';
    for (const args of [
      ['run', 'quick', '--quiet', '--redis', url, '--out', join(dir, 'never')],
      ['status', '--redis', url, '--run-id', 'r'],
    ]) {
      const r = expectUsageError(args, ['--redis:', "'127.0.0.1:99999'"]);
      expect(r.stderr).not.toContain('hunter2');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('run --metrics-port on a port in use names --metrics-port and leaves nothing in Redis', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const prefix = testPrefix();
    try {
      const args = ['run', 'quick', '--quiet', '--redis', REDIS_URL, '--metrics-port', String(port), '--run-id', 'busy-port', '--out', join(dir, 'busy')];
      expectUsageError(args, ['--metrics-port:', `127.0.0.1:${port}`, 'EADDRINUSE'], { QUEUE_PREFIX: prefix });
      const r = createRedis(REDIS_URL, { blocking: false });
      try {
        await r.connect();
        expect(await r.keys(`${prefix}*`)).toEqual([]);
      } finally {
        r.disconnect();
      }
    } finally {
      busy.close();
      await cleanup(prefix);
    }
  });
});
