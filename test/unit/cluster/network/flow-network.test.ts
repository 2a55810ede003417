import { describe, expect, it } from 'vitest';
import { Environment } from '../../../../shared/src/engine/environment.js';
import { Fabric } from '../../../../shared/src/cluster/network/fabric.js';
import { FlowNetwork, type TenantTraffic } from '../../../../shared/src/cluster/network/flow-network.js';
import { LinkUsage, USAGE_BASE_BIN_S } from '../../../../shared/src/cluster/network/link-usage.js';

const G = 1e9;

/** Four hosts of 1 GB/s NICs in racks of two, each rack's uplink 0.5 GB/s (a 4:1 oversubscription), no spine. */
function fabric(torUplink: number | null = 0.5 * G, spine: number | null = null): Fabric {
  return new Fabric({ hostNics: [G, G, G, G], hostsPerRack: 2, torUplink, spine });
}

/** Flows started at t=0, their rates once the shares are computed. */
function ratesOf(f: Fabric, flows: readonly [number, number, number?][], tenant?: TenantTraffic): number[] {
  const env = new Environment();
  const net = new FlowNetwork(f, env, tenant);
  const handles = flows.map(([src, dst, demand]) => net.add(f.route(src, dst), demand ?? Infinity, () => {}));
  env.run();
  return handles.map((h) => h.rate);
}

describe('FlowNetwork: max-min fair rates over the fabric (hand-computed)', () => {
  it('two flows out of one NIC get half of it each', () => {
    expect(ratesOf(fabric(null), [[0, 1], [0, 2]])).toEqual([0.5 * G, 0.5 * G]);
  });

  it('flows between racks share the uplink; a flow inside a rack stays below it and takes what its NIC has left', () => {
    // 0→2 and 1→3 cross rack 0's uplink (0.5 GB/s): 0.25 each. 1→0 shares host 1's NIC with 1→3: 1 − 0.25.
    expect(ratesOf(fabric(), [[0, 2], [1, 3], [1, 0]])).toEqual([0.25 * G, 0.25 * G, 0.75 * G]);
  });

  it('a spine shared by every inter-rack flow is the bottleneck when it is the narrowest', () => {
    const f = new Fabric({ hostNics: [G, G, G, G, G, G], hostsPerRack: 2, torUplink: null, spine: 0.3 * G });
    expect(ratesOf(f, [[0, 2], [1, 4], [2, 3]])).toEqual([0.15 * G, 0.15 * G, G]);
  });

  it('a capped flow (QEMU max-bandwidth) takes its cap and leaves the rest of the link to the others', () => {
    expect(ratesOf(fabric(null), [[0, 1, 0.1 * G], [0, 2]])).toEqual([0.1 * G, 0.9 * G]);
  });

  it('tenant traffic takes its share of every host NIC', () => {
    const quarter: TenantTraffic = { shareAt: () => 0.25, nextChangeS: () => Infinity };
    expect(ratesOf(fabric(null), [[0, 1], [0, 2]], quarter)).toEqual([0.375 * G, 0.375 * G]);
  });

  it('shares are computed once per instant, however many flows start then, and flows are told when their rate changes', () => {
    const f = fabric(null);
    const env = new Environment();
    const net = new FlowNetwork(f, env);
    const told: [number, number, number][] = [];
    const a = net.add(f.route(0, 1), Infinity, (r, t) => told.push([0, r, t]));
    net.add(f.route(0, 2), Infinity, (r, t) => told.push([1, r, t]));
    net.add(f.route(0, 3), Infinity, (r, t) => told.push([2, r, t]));
    env.run();
    expect(net.recomputations).toBe(1);
    expect(told).toEqual([
      [0, G / 3, 0],
      [1, G / 3, 0],
      [2, G / 3, 0],
    ]);
    told.length = 0;
    env.callAt(10, () => net.remove(a));
    env.run();
    expect(net.recomputations).toBe(2);
    expect(told).toEqual([
      [1, 0.5 * G, 10],
      [2, 0.5 * G, 10],
    ]);
  });

  it('a flow that lifts its cap (stop-and-copy) takes what the others leave', () => {
    const f = fabric(null);
    const env = new Environment();
    const net = new FlowNetwork(f, env);
    const a = net.add(f.route(0, 1), 0.2 * G, () => {});
    const b = net.add(f.route(0, 2), 0.3 * G, () => {});
    env.run();
    expect([a.rate, b.rate]).toEqual([0.2 * G, 0.3 * G]);
    env.callAt(5, () => net.setDemand(a, Infinity));
    env.run();
    expect([a.rate, b.rate]).toEqual([0.7 * G, 0.3 * G]);
  });

  it('recomputes when a daily tenant profile changes, only while flows run', () => {
    const f = fabric(null);
    const env = new Environment();
    // 0 until 100 s, then half the NIC.
    const tenant: TenantTraffic = { shareAt: (t) => (t < 100 ? 0 : 0.5), nextChangeS: (t) => (t < 100 ? 100 : Infinity) };
    const net = new FlowNetwork(f, env, tenant);
    const rates: [number, number][] = [];
    const a = net.add(f.route(0, 1), Infinity, (r, t) => rates.push([t, r]));
    env.run(150);
    expect(rates).toEqual([
      [0, G],
      [100, 0.5 * G],
    ]);
    net.remove(a);
    env.run();
    expect(net.recomputations).toBe(3);
  });
});

describe('LinkUsage: bytes carried per link, utilisation per tier', () => {
  it('a flow at half a NIC for two bins: the busiest NIC link at 0.5, the tier mean over all 8 NIC links', () => {
    const f = fabric(null);
    const env = new Environment();
    const usage = new LinkUsage(f);
    const net = new FlowNetwork(f, env, undefined, usage);
    const flow = net.add(f.route(0, 1), 0.5 * G, () => {});
    env.callAt(2 * USAGE_BASE_BIN_S, () => net.remove(flow));
    env.run();
    const u = usage.finish(2 * USAGE_BASE_BIN_S, 2)!;
    const nic = u.tiers.find((t) => t.tier === 'nic')!;
    expect(u.binS).toBe(USAGE_BASE_BIN_S);
    expect(nic.links).toBe(8);
    expect(nic.maxUtil).toEqual([0.5, 0.5]);
    // Two of the eight NIC links (host 0 up, host 1 down) carry half their capacity.
    expect(nic.meanUtil).toEqual([0.125, 0.125]);
    expect(usage.linksLoaded).toBe(0);
  });
});
