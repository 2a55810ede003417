import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { regionDigest } from '../../../../shared/src/cluster/region/region-summary.js';
import { runCluster } from '../../../../shared/src/cluster/region/run-cluster.js';
import { runRegion } from '../../../../shared/src/cluster/region/run-region.js';
import { regionClusters } from '../../../../shared/src/cluster/region/region-clusters.js';
import { EmbeddedTransport } from '../../../../shared/src/cluster/fleet/embedded-transport.js';
import { scenarioWith } from '../fleet/fleet-fixtures.js';

/** A region of 4 small clusters (4 hosts × 2 VMs, waves of 2). */
const REGION = scenarioWith({
  name: 'tiny-region',
  seed: 3,
  horizon: '1d',
  cluster: { host_classes: [{ name: 'std', count: 4, cores: 16, memory: '64GiB', nic: '10Gbit/s' }] },
  vms: { per_host: 2, ram: { choices: ['2GiB', '4GiB'] }, vcpus: 2, workloads: [{ workload: { kind: 'hotcold', dirty_rate: '40MiB/s' } }] },
  migration: { max_bandwidth: '1Gbit/s' },
  policies: { maintenance: { wave_size: 2, upgrade_time: '5m' } },
  events: { cancellation_probability: 0.2 },
  region: { clusters: 4 },
});

describe('runRegion', () => {
  it('writes each cluster’s outputs in its folder and the region’s summary, index and report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-region-'));
    const s = await runRegion({ scenario: REGION, outDir: dir, runId: 'rr' });
    expect(s.clusters.map((c) => c.name)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(s.digest).toBe(regionDigest(s.clusters.map((c) => c.digest)));
    expect(s.totals.migrations.total).toBe(s.clusters.reduce((a, c) => a + c.migrations.total, 0));
    expect(s.totals.migration_time_s.count).toBe(s.totals.migrations.total);
    expect(s.totals.makespan_s).toBe(Math.max(...s.clusters.map((c) => c.makespan_s!)));
    for (const c of s.clusters) {
      for (const f of ['summary.json', 'jobs.csv', 'jobs.ndjson', 'report.html']) expect(existsSync(join(dir, c.name, f))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, c.name, 'summary.json'), 'utf8')).digest).toBe(c.digest);
    }
    expect(JSON.parse(readFileSync(join(dir, 'region-summary.json'), 'utf8')).digest).toBe(s.digest);
    expect(readFileSync(join(dir, 'clusters.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('Evacuation makespan per cluster');
    // One cluster on its own (as another process would run it) gives the same digest.
    const c2 = regionClusters(REGION)[2]!;
    const alone = await runCluster({ scenario: c2.scenario, name: c2.name, runId: 'rr.c2', transport: new EmbeddedTransport(), outDir: mkdtempSync(join(tmpdir(), 'migsim-c2-')) });
    expect(alone.digest).toBe(s.clusters[2]!.digest);
  });

  it('property: the region digest does not depend on how many clusters run at once on threads', async () => {
    // In this process, one cluster after another: the reference.
    const one = await runRegion({ scenario: REGION, outDir: mkdtempSync(join(tmpdir(), 'migsim-region1-')), threads: 0, ndjson: false });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), async (k) => {
        const many = await runRegion({ scenario: REGION, outDir: mkdtempSync(join(tmpdir(), 'migsim-regionk-')), threads: k, ndjson: false });
        expect(many.digest).toBe(one.digest);
        expect(many.clusters.map((c) => c.digest)).toEqual(one.clusters.map((c) => c.digest));
        expect(many.totals.migrations).toEqual(one.totals.migrations);
      }),
      { numRuns: 3 },
    );
  });

  it('a cluster that fails on its thread stops the region with ClusterRunFailed naming the cluster', async () => {
    // A cluster thread script that fails its task the way a cluster's run would (an invariant broken).
    const { ClusterThreads } = await import('../../../../shared/src/cluster/region/cluster-threads.js');
    const { ClusterRunFailed } = await import('../../../../shared/src/cluster/region/errors/index.js');
    const script = new URL('data:text/javascript,' + encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', (t) => parentPort.postMessage({ kind: 'failed', name: t.name, error: 'result ends before the clock' }));"));
    const threads = new ClusterThreads(script);
    const c = regionClusters(REGION)[1]!;
    const err = await threads.run({ scenario: c.scenario, name: c.name, runId: 'x-c1', outDir: tmpdir(), progressIntervalMs: 250 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterRunFailed);
    expect((err as Error).message).toBe('cluster c1: result ends before the clock');
    await threads.close();
  });
});
