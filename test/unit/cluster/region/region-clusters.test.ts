import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capacityIssues } from '../../../../shared/src/cluster/fleet/capacity-issues.js';
import { clusterSeed, regionClusters } from '../../../../shared/src/cluster/region/region-clusters.js';
import { ScenarioInvalid } from '../../../../shared/src/cluster/scenario/errors/scenario-invalid.js';
import { parseScenario } from '../../../../shared/src/cluster/scenario/parse-scenario.js';

const QUICK = readFileSync('scenarios/quick.yaml', 'utf8');

function problems(text: string): ScenarioInvalid {
  try {
    parseScenario(text, 'r.yaml', [capacityIssues]);
  } catch (e) {
    if (e instanceof ScenarioInvalid) return e;
    throw e;
  }
  throw new Error('expected ScenarioInvalid');
}

describe('regionClusters', () => {
  it('a scenario without a region is one cluster c0: the scenario itself, unchanged', () => {
    const s = parseScenario(QUICK, 'quick.yaml');
    const cs = regionClusters(s);
    expect(cs).toHaveLength(1);
    expect(cs[0]!.name).toBe('c0');
    expect(cs[0]!.scenario).toBe(s);
  });

  it('region: { clusters: N } gives N copies named c0… with seeds derived from the region seed', () => {
    const s = parseScenario(`${QUICK}\nregion: { clusters: 3 }\n`, 'r.yaml');
    const cs = regionClusters(s);
    expect(cs.map((c) => c.name)).toEqual(['c0', 'c1', 'c2']);
    expect(cs.map((c) => c.scenario.seed)).toEqual([0, 1, 2].map((i) => clusterSeed(s.seed, i)));
    expect(new Set(cs.map((c) => c.scenario.seed)).size).toBe(3);
    for (const c of cs) {
      expect(c.scenario.region).toBeUndefined();
      expect(c.scenario.name).toBe(`${s.name}/${c.name}`);
      expect(c.scenario.cluster).toEqual(s.cluster);
      expect(c.scenario.seed).toBeGreaterThanOrEqual(0);
      expect(c.scenario.seed).toBeLessThanOrEqual(2 ** 31 - 1);
    }
    // Another region seed, other cluster seeds; the same, the same.
    const t = parseScenario(`${QUICK.replace(/^seed: .*$/m, 'seed: 99')}\nregion: { clusters: 3 }\n`, 'r.yaml');
    expect(regionClusters(t)[0]!.scenario.seed).not.toBe(cs[0]!.scenario.seed);
    expect(regionClusters(parseScenario(`${QUICK}\nregion: { clusters: 3 }\n`, 'r.yaml')).map((c) => c.scenario.seed)).toEqual(cs.map((c) => c.scenario.seed));
  });

  it('a list of clusters applies each one’s set values (units as in a file) and keeps its name', () => {
    const s = parseScenario(
      `${QUICK}\nregion:\n  clusters:\n    - name: east\n    - set:\n        policies.maintenance.wave_size: 1\n        migration.max_bandwidth: 5Gbit/s\n        cluster.host_classes[0].count: 12\n`,
      'r.yaml',
      [capacityIssues],
    );
    const [east, second] = regionClusters(s);
    expect(east!.name).toBe('east');
    expect(second!.name).toBe('c1');
    expect(east!.scenario.cluster).toEqual(s.cluster);
    expect(second!.scenario.policies.maintenance?.wave_size).toBe(1);
    expect(second!.scenario.migration.max_bandwidth).toBe(5e9 / 8);
    expect(second!.scenario.cluster.host_classes[0]!.count).toBe(12);
    expect(second!.scenario.seed).toBe(clusterSeed(s.seed, 1));
  });

  it('a cluster’s bad values are reported at its set key with the line, the cluster and the validator’s path', () => {
    const text = `${QUICK}\nregion:\n  clusters:\n    - {}\n    - set:\n        policies.maintenance.wave_size: -1\n`;
    const e = problems(text);
    const line = text.split('\n').findIndex((l) => l.includes('wave_size: -1')) + 1;
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]!.path).toBe('region.clusters[1].set.policies.maintenance.wave_size');
    expect(e.issues[0]!.line).toBe(line);
    expect(e.issues[0]!.message).toMatch(/^cluster c1: policies\.maintenance\.wave_size: /);
  });

  it('rejects unknown keys, a path through a value, seed or region in set, duplicate names and out-of-range counts', () => {
    expect(problems(`${QUICK}\nregion:\n  clusters:\n    - set: { cluster.no_such_key: 1 }\n`).issues[0]!.message).toMatch(/cluster c0: cluster\.no_such_key: Unrecognized key/);
    expect(problems(`${QUICK}\nregion:\n  clusters:\n    - set: { seed.x: 1 }\n`).issues[0]!.message).toMatch(/cannot set 'seed'/);
    expect(problems(`${QUICK}\nregion:\n  clusters:\n    - set: { horizon.x: 1 }\n`).issues[0]!.message).toMatch(/goes through a value/);
    expect(problems(`${QUICK}\nregion:\n  clusters:\n    - name: a\n    - name: a\n`).issues[0]!.message).toMatch(/also cluster 0/);
    expect(problems(`${QUICK}\nregion: { clusters: 0 }\n`).issues[0]!.path).toBe('region.clusters');
    expect(problems(`${QUICK}\nregion: { clusters: 1001 }\n`).issues[0]!.path).toBe('region.clusters');
    expect(problems(`${QUICK}\nregion: { clusters: 2, extra: 1 }\n`).issues[0]!.path).toBe('region.extra');
  });

  it('a value the region’s other checks refuse names the cluster and where: fewer hosts than a host failure needs', () => {
    const e = problems(`${QUICK}\nregion:\n  clusters:\n    - {}\n    - set: { cluster.host_classes.0.count: 6 }\n`);
    expect(e.issues[0]!.message).toMatch(/^cluster c1: events\.host_failures/);
    expect(e.issues[0]!.path).toBe('region.clusters[1].set');
  });

  it('the fleet capacity check runs on each cluster', () => {
    const e = problems(`${QUICK}\nregion:\n  clusters:\n    - set: { vms.per_host: 500 }\n`);
    expect(e.issues[0]!.path).toBe('region.clusters[0].set.vms.per_host');
    expect(e.issues[0]!.message).toMatch(/^cluster c0: /);
  });
});
