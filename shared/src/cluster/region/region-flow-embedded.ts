import { mkdirSync, writeFileSync } from 'node:fs';
import { clusterRunId } from './region-clusters.js';
import { join } from 'node:path';
import { EmbeddedTransport } from '../fleet/embedded-transport.js';
import type { ClusterRunResult } from './cluster-run.js';

import type { RegionCluster, RegionFlowResult } from './region-flow.js';
import { regionDigest } from './region-summary.js';
import { runCluster } from './run-cluster.js';

/**
 * The same region as `runRegionFlow`, in this process, one cluster after another, with the same run ids and output
 * layout: the reference the distributed run's digest is compared with.
 */
export async function runRegionEmbedded(o: { regionName: string; clusters: readonly RegionCluster[]; runId: string; outDir: string }): Promise<RegionFlowResult> {
  const t0 = performance.now();
  mkdirSync(o.outDir, { recursive: true });
  const clusters: ClusterRunResult[] = [];
  for (const c of o.clusters) {
    clusters.push(await runCluster({ scenario: c.scenario, name: c.name, runId: clusterRunId(o.runId, c.name), transport: new EmbeddedTransport(), outDir: o.outDir }));
  }
  const digest = regionDigest(clusters.map((c) => c.digest));
  const migrations = clusters.reduce((a, c) => a + c.migrations, 0);
  const wallS = (performance.now() - t0) / 1e3;
  writeFileSync(join(o.outDir, 'region.json'), `${JSON.stringify({ region: o.regionName, run_id: o.runId, digest, migrations, wall_s: wallS, clusters: clusters.map((c) => ({ name: c.name, digest: c.digest, migrations: c.migrations })) }, null, 2)}\n`);
  return { name: o.regionName, runId: o.runId, clusters, digest, migrations, wallS };
}
