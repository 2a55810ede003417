import { describe, expect, it } from 'vitest';
import { fabricSpecOf } from '../../../../shared/src/cluster/network/fabric-spec-of.js';
import { Fabric } from '../../../../shared/src/cluster/network/fabric.js';
import { nextTenantChangeS, tenantShareAt } from '../../../../shared/src/cluster/network/tenant-traffic.js';
import { scenarioSchema, type Scenario } from '../../../../shared/src/cluster/scenario/scenario-schema.js';

const GBIT = 1e9 / 8;

/** Six hosts: four with 25 Gbit/s NICs, then two with 100 Gbit/s; `network` as a scenario gives it. */
function scenario(network?: Record<string, unknown>): Scenario {
  return scenarioSchema.parse({
    name: 'net',
    cluster: {
      host_classes: [
        { name: 'a', count: 4, cores: 16, memory: '256GiB', nic: '25Gbit/s' },
        { name: 'b', count: 2, cores: 16, memory: '256GiB', nic: '100Gbit/s' },
      ],
      ...(network ? { network } : {}),
    },
    vms: { per_host: 1, ram: '8GiB', vcpus: 4, workloads: [{ workload: { kind: 'idle' } }] },
  });
}
const nics = [25, 25, 25, 25, 100, 100].map((g) => g * GBIT);

describe('fabricSpecOf', () => {
  it('without cluster.network: one rack of every host, no uplink, no spine', () => {
    expect(fabricSpecOf(scenario(), nics)).toEqual({ hostNics: nics, hostsPerRack: 6, torUplink: null, spine: null });
  });

  it('an uplink rate and a spine as given, in bytes/s', () => {
    const spec = fabricSpecOf(scenario({ hosts_per_rack: 2, tor_uplink: '40Gbit/s', spine: '400Gbit/s' }), nics);
    expect(spec).toEqual({ hostNics: nics, hostsPerRack: 2, torUplink: 40 * GBIT, spine: 400 * GBIT });
    expect(new Fabric(spec).racks).toBe(3);
  });

  it('an oversubscription ratio divides the first rack\'s NICs: 3 × 25 Gbit/s at 3:1 is 25 Gbit/s, at 3:2 50 Gbit/s', () => {
    expect(fabricSpecOf(scenario({ hosts_per_rack: 3, tor_uplink: '3:1' }), nics).torUplink).toBeCloseTo(25 * GBIT, 6);
    expect(fabricSpecOf(scenario({ hosts_per_rack: 3, tor_uplink: '3:2' }), nics).torUplink).toBeCloseTo(50 * GBIT, 6);
    // Two racks of three: the first (25+25+25) sets it, not the second (25+100+100).
    expect(fabricSpecOf(scenario({ hosts_per_rack: 3, tor_uplink: '1:1' }), nics).torUplink).toBeCloseTo(75 * GBIT, 6);
  });
});

describe('tenant traffic', () => {
  const daily = Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 17 ? 0.4 : 0.1));
  const net = scenario({ tenant_traffic: { daily } }).cluster.network;

  it('none, or a constant share, never changes', () => {
    expect(tenantShareAt(undefined, 1234)).toBe(0);
    expect(nextTenantChangeS(undefined, 0)).toBe(Infinity);
    const c = scenario({ tenant_traffic: 0.25 }).cluster.network;
    expect(tenantShareAt(c, 0)).toBe(0.25);
    expect(tenantShareAt(c, 1e7)).toBe(0.25);
    expect(nextTenantChangeS(c, 5)).toBe(Infinity);
    expect(nextTenantChangeS(scenario({ tenant_traffic: { daily: Array(24).fill(0.3) } }).cluster.network, 5)).toBe(Infinity);
  });

  it('a daily profile by hour, repeating every 86400 s', () => {
    expect(tenantShareAt(net, 0)).toBe(0.1);
    expect(tenantShareAt(net, 9 * 3600 - 1)).toBe(0.1);
    expect(tenantShareAt(net, 9 * 3600)).toBe(0.4);
    expect(tenantShareAt(net, 16 * 3600 + 3599)).toBe(0.4);
    expect(tenantShareAt(net, 17 * 3600)).toBe(0.1);
    expect(tenantShareAt(net, 86400 + 10 * 3600)).toBe(0.4);
  });

  it('the next change is the next hour boundary where the profile steps, strictly after tS', () => {
    expect(nextTenantChangeS(net, 0)).toBe(9 * 3600);
    expect(nextTenantChangeS(net, 9 * 3600 - 0.5)).toBe(9 * 3600);
    expect(nextTenantChangeS(net, 9 * 3600)).toBe(17 * 3600);
    expect(nextTenantChangeS(net, 12 * 3600 + 7)).toBe(17 * 3600);
    // After 17:00 the next step is 09:00 the next day.
    expect(nextTenantChangeS(net, 17 * 3600)).toBe(86400 + 9 * 3600);
    expect(nextTenantChangeS(net, 3 * 86400 + 20 * 3600)).toBe(4 * 86400 + 9 * 3600);
  });
});

describe('cluster.network in the schema', () => {
  const issues = (network: Record<string, unknown>) => {
    const r = scenarioSchema.safeParse({
      name: 'net',
      cluster: { host_classes: [{ name: 'a', count: 6, cores: 16, memory: '256GiB', nic: '25Gbit/s' }], network },
      vms: { per_host: 1, ram: '8GiB', vcpus: 4, workloads: [{ workload: { kind: 'idle' } }] },
    });
    return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('defaults: uplink and spine null, no tenant traffic', () => {
    expect(scenario({}).cluster.network).toEqual({ tor_uplink: null, spine: null, tenant_traffic: 0 });
  });

  it('hosts_per_rack must divide the hosts; the issue lists the divisors', () => {
    expect(issues({ hosts_per_rack: 3 })).toEqual([]);
    const [i] = issues({ hosts_per_rack: 4 });
    expect(i!.path).toBe('cluster.network.hosts_per_rack');
    expect(i!.message).toContain('divisors of 6: 1, 2, 3, 6');
  });

  it('rejects zero rates, ratios below 1:1 or with a zero side, and shares of 1', () => {
    expect(issues({ tor_uplink: '0Gbit/s' })[0]!.path).toBe('cluster.network.tor_uplink');
    expect(issues({ tor_uplink: 0 })[0]!.path).toBe('cluster.network.tor_uplink');
    expect(issues({ spine: '0Gbit/s' })[0]!.path).toBe('cluster.network.spine');
    expect(issues({ tor_uplink: '1:3' })[0]!.message).toContain('at least 1:1');
    expect(issues({ tor_uplink: '3:0' })[0]!.message).toContain('above zero');
    expect(issues({ tor_uplink: 'fast' })[0]!.message).toContain('oversubscription ratio');
    expect(issues({ tenant_traffic: 1 })[0]!.path).toBe('cluster.network.tenant_traffic');
    expect(issues({ tenant_traffic: { daily: [0.1, 0.2] } })[0]!.path).toBe('cluster.network.tenant_traffic.daily');
  });
});
