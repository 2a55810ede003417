import { describe, expect, it } from 'vitest';
import { Fabric } from '../../../../shared/src/cluster/network/fabric.js';
import { maxMinFair } from '../../../../shared/src/cluster/network/max-min-fair.js';

const G = 1e9 / 8;

describe('the fabric: NICs, rack uplinks, a spine, and the route of a migration', () => {
  const fabric = new Fabric({ hostNics: Array.from({ length: 8 }, () => 25 * G), hostsPerRack: 4, torUplink: (4 * 25 * G) / 3, spine: 100 * G });

  it('same-rack flows stay below the uplink; inter-rack flows cross both uplinks and the spine', () => {
    const tiers = (s: number, d: number) => fabric.route(s, d).map((l) => `${fabric.links[l]!.tier}:${fabric.links[l]!.direction}:${fabric.links[l]!.owner}`);
    expect(tiers(0, 3)).toEqual(['nic:up:0', 'nic:down:3']);
    expect(tiers(1, 6)).toEqual(['nic:up:1', 'uplink:up:0', 'spine:up:-1', 'uplink:down:1', 'nic:down:6']);
    expect(fabric.racks).toBe(2);
  });

  it('a 3:1 oversubscribed uplink is the bottleneck when a whole rack drains out of it', () => {
    // Every host of rack 0 sends one flow to rack 1: 4 × 25G of NICs through a 33.3G uplink.
    const flows = [0, 1, 2, 3].map((h) => ({ links: fabric.route(h, h + 4), demand: Infinity }));
    const r = maxMinFair(fabric.links, flows);
    for (const x of r) expect(x).toBeCloseTo((4 * 25 * G) / 3 / 4, 0);
  });

  it('without uplinks or spine, only the NICs limit', () => {
    const flat = new Fabric({ hostNics: [10 * G, 10 * G, 10 * G], hostsPerRack: 1, torUplink: null, spine: null });
    expect(flat.route(0, 2).length).toBe(2);
    const r = maxMinFair(flat.links, [{ links: flat.route(0, 2), demand: Infinity }, { links: flat.route(1, 2), demand: Infinity }]);
    expect([...r]).toEqual([5 * G, 5 * G].map((x) => expect.closeTo(x, 0)));
  });
});
