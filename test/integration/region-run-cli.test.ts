import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, migsim, migsimAsync, REDIS_URL, startWorker, stopAll, testPrefix, waitExit } from '../helpers/cluster.js';

/**
 * `migsim run REGION --redis URL`: the region's clusters as coordinator jobs of a BullMQ flow, served by worker
 * processes with `--coordinators`; the same region digest and outputs as the embedded `migsim run REGION`.
 */
describe('migsim run of a region with --redis', () => {
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    await stopAll(procs.splice(0));
    for (const p of prefixes.splice(0)) await cleanup(p);
  });

  it('gives the embedded region digest with 2 worker processes serving coordinators and migrations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-region-cli-'));
    const embedded = migsim(['run', 'scenarios/region-small.yaml', '--out', join(dir, 'emb'), '--run-id', 'cli-region', '--quiet']);
    expect(embedded.status, embedded.stderr).toBe(0);
    const p = testPrefix();
    prefixes.push(p);
    for (let i = 0; i < 2; i++) procs.push(startWorker(p, { env: { WORKER_COORDINATORS: '2', LOG_LEVEL: 'warn' } }));
    const run = migsimAsync(['run', 'scenarios/region-small.yaml', '--redis', REDIS_URL, '--out', join(dir, 'dist'), '--run-id', 'cli-region'], { QUEUE_PREFIX: p });
    const r = await waitExit(run, 180_000);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(readFileSync(join(dir, 'emb', 'region-summary.json'), 'utf8')) as { digest: string; clusters: { name: string; digest: string }[]; totals: { migrations: unknown } };
    const d = JSON.parse(readFileSync(join(dir, 'dist', 'region-summary.json'), 'utf8')) as typeof e;
    expect(d.digest).toBe(e.digest);
    expect(d.clusters.map((c) => [c.name, c.digest])).toEqual(e.clusters.map((c) => [c.name, c.digest]));
    expect(d.totals.migrations).toEqual(e.totals.migrations);
    expect(r.stdout).toContain(`region digest ${e.digest}`);
    // Each cluster's records, written by the coordinator that ran it, equal the embedded run's.
    for (const c of e.clusters) expect(readFileSync(join(dir, 'dist', c.name, 'jobs.csv'), 'utf8')).toBe(readFileSync(join(dir, 'emb', c.name, 'jobs.csv'), 'utf8'));
    expect(readFileSync(join(dir, 'dist', 'clusters.csv'), 'utf8')).toBe(readFileSync(join(dir, 'emb', 'clusters.csv'), 'utf8'));
  });

  it('refuses --threads with --redis, naming where the clusters run (exit 2)', () => {
    const r = migsim(['run', 'scenarios/region-small.yaml', '--redis', REDIS_URL, '--threads', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--threads: with --redis the clusters run where coordinator jobs are served');
  });
});
