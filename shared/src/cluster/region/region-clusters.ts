import { unitHash } from '../../engine/rng.js';
import { resolvedRegionClusters } from '../scenario/region-overrides.js';
import type { Scenario } from '../scenario/scenario-schema.js';

/** Salt of the clusters' seeds: cluster i of a region of seed s has seed ⌊unitHash(s, SALT, i) × (2³¹ − 1)⌋. */
export const REGION_SEED_SALT = 0x5e91c0;

/**
 * The run id of one cluster of a region run: `<region run id>.<cluster>` (also its cluster job's id when the region
 * runs as a BullMQ flow), so a region gives the same digests embedded and distributed.
 */
export function clusterRunId(regionRunId: string, cluster: string): string {
  return `${regionRunId}.${cluster}`;
}

/** The seed of a region's cluster `index`. */
export function clusterSeed(regionSeed: number, index: number): number {
  return Math.floor(unitHash(regionSeed, REGION_SEED_SALT, index) * (2 ** 31 - 1));
}

export interface RegionCluster {
  /** `c0`, `c1`, … or the name the region gives it. */
  readonly name: string;
  /** The cluster's own scenario: no `region`, named `<region scenario>/<cluster>`, its seed derived from the region's. */
  readonly scenario: Scenario;
}

/**
 * The clusters of a scenario. Without `region`, the scenario itself as one cluster `c0`, unchanged (its seed, name
 * and outputs as ever). With `region: { clusters: N }`, N copies of the scenario's cluster, VMs, policies and events;
 * with a list, each cluster with its `set` values applied (as `parseScenario` validated them). Each cluster's seed
 * is {@link clusterSeed} of the region's seed and its index.
 * @throws Error for a region whose clusters set values but that did not come through `parseScenario`/`validateScenario`.
 */
export function regionClusters(scenario: Scenario): RegionCluster[] {
  const region = scenario.region;
  if (region === undefined) return [{ name: 'c0', scenario }];
  const { region: _region, ...base } = scenario;
  const list = typeof region.clusters === 'number' ? Array.from({ length: region.clusters }, () => ({ name: undefined, set: undefined })) : region.clusters;
  const resolved = resolvedRegionClusters(region);
  return list.map((c, i) => {
    const name = c.name ?? `c${i}`;
    let own: Scenario = base;
    if (c.set !== undefined && Object.keys(c.set).length > 0) {
      const r = resolved?.[i];
      if (!r) throw new Error(`region cluster ${name} sets values but the scenario was not validated with them (load it with parseScenario or validateScenario)`);
      own = r;
    }
    return { name, scenario: { ...own, name: `${scenario.name}/${name}`, seed: clusterSeed(scenario.seed, i) } };
  });
}
