import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resultsKey } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';
import { cleanup, migsim, REDIS_URL, startWorker, stopAll, testPrefix } from '../helpers/cluster.js';

const GRID = ['--set', 'policies.maintenance.max_outbound=1,2', '--set', 'policies.maintenance.wave_size=1,2', '--seeds', '2', '--window', '8h'];

describe('migsim sweep --redis (2 worker processes)', () => {
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];

  afterEach(async () => {
    await stopAll(procs.splice(0));
    for (const p of prefixes.splice(0)) await cleanup(p);
  });

  it('writes the same sweep.csv and planner table as the embedded sweep', async () => {
    const embedded = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-emb-')), 'out');
    const e = migsim(['sweep', 'quick', ...GRID, '--quiet', '--out', embedded]);
    expect(e.status, e.stderr).toBe(0);

    const p = testPrefix();
    prefixes.push(p);
    procs.push(startWorker(p), startWorker(p));
    const distributed = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-dist-')), 'out');
    const d = migsim(['sweep', 'quick', ...GRID, '--redis', REDIS_URL, '--out', distributed], { QUEUE_PREFIX: p }, 180_000);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/sweep: runs 8\/8/);

    const csv = readFileSync(join(embedded, 'sweep.csv'), 'utf8');
    expect(csv.trim().split('\n').length).toBe(1 + 8);
    expect(readFileSync(join(distributed, 'sweep.csv'), 'utf8')).toBe(csv);
    const table = (out: string) => out.split('\n').filter((l) => !l.startsWith('wrote ')).join('\n');
    expect(table(d.stdout)).toBe(table(e.stdout));
    // Every run went through the queues: its results are in Redis under its run id.
    const runIds = csv.trim().split('\n').slice(1).map((l) => l.split(',')[3]!);
    const redis = createRedis(REDIS_URL, { blocking: false });
    try {
      await redis.connect();
      for (const id of runIds) expect(await redis.hlen(resultsKey(p, id)), id).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('an unreachable Redis is a usage error naming --redis, and no sweep.csv is written', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-nored-')), 'out');
    const r = migsim(['sweep', 'quick', '--set', 'policies.maintenance.max_outbound=1', '--quiet', '--redis', 'redis://127.0.0.1:1', '--out', dir], {}, 30_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--redis: cannot reach Redis/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'sweep.csv'))).toBe(false);
  });
});
