import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxMinFair, type FairFlow, type FairLink } from '../../../../shared/src/cluster/network/max-min-fair.js';

const G = 1e9 / 8; // 1 Gbit/s in bytes/s
const rates = (links: FairLink[], flows: FairFlow[]) => [...maxMinFair(links, flows)];

describe('max-min fair sharing of links among flows (progressive filling, as SimGrid shares routes)', () => {
  it('k flows on one link share it equally', () => {
    for (const k of [1, 2, 3, 7]) {
      const r = rates([{ capacity: 10 * G }], Array.from({ length: k }, () => ({ links: [0], demand: Infinity })));
      for (const x of r) expect(x).toBeCloseTo((10 * G) / k, 0);
    }
  });

  it('a capped flow leaves the rest to the others (10G link, one flow capped at 1G, two uncapped: 1G, 4.5G, 4.5G)', () => {
    const r = rates([{ capacity: 10 * G }], [{ links: [0], demand: 1 * G }, { links: [0], demand: Infinity }, { links: [0], demand: Infinity }]);
    expect(r[0]).toBeCloseTo(1 * G, 0);
    expect(r[1]).toBeCloseTo(4.5 * G, 0);
    expect(r[2]).toBeCloseTo(4.5 * G, 0);
  });

  it('partly shared paths: a 10G uplink shared by three flows, one of which also crosses a 2G NIC (2G, 4G, 4G)', () => {
    // links: 0 = uplink 10G, 1 = a slow NIC 2G
    const r = rates([{ capacity: 10 * G }, { capacity: 2 * G }], [{ links: [0, 1], demand: Infinity }, { links: [0], demand: Infinity }, { links: [0], demand: Infinity }]);
    expect(r[0]).toBeCloseTo(2 * G, 0);
    expect(r[1]).toBeCloseTo(4 * G, 0);
    expect(r[2]).toBeCloseTo(4 * G, 0);
  });

  it('the classic line network: a long flow across two links and one short flow on each (all get half)', () => {
    const r = rates([{ capacity: 1 }, { capacity: 1 }], [{ links: [0, 1], demand: Infinity }, { links: [0], demand: Infinity }, { links: [1], demand: Infinity }]);
    expect(r).toEqual([0.5, 0.5, 0.5].map((x) => expect.closeTo(x, 9)));
  });

  it('a shared NIC and a shared uplink in sequence: the tighter one decides (NIC 25G for 2 flows, uplink 10G for 4 flows)', () => {
    // flows 0,1 leave host A (NIC 25G) through uplink U (10G); flows 2,3 leave host B through U too.
    const r = rates([{ capacity: 25 * G }, { capacity: 25 * G }, { capacity: 10 * G }], [
      { links: [0, 2], demand: Infinity },
      { links: [0, 2], demand: Infinity },
      { links: [1, 2], demand: Infinity },
      { links: [1, 2], demand: Infinity },
    ]);
    for (const x of r) expect(x).toBeCloseTo(2.5 * G, 0);
  });

  it('properties: feasible (no link over capacity, no flow over its demand), and every flow is bottlenecked', () => {
    const arb = fc.record({
      caps: fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }),
      flows: fc.array(fc.record({ links: fc.uniqueArray(fc.nat(5), { minLength: 1, maxLength: 3 }), demand: fc.oneof(fc.constant(Infinity), fc.double({ min: 0.5, max: 80, noNaN: true })) }), { minLength: 1, maxLength: 10 }),
    });
    fc.assert(
      fc.property(arb, ({ caps, flows }) => {
        const links = caps.map((capacity) => ({ capacity }));
        const fs = flows.map((f) => ({ links: f.links.filter((l) => l < links.length), demand: f.demand })).filter((f) => f.links.length > 0);
        const r = maxMinFair(links, fs);
        const load = links.map(() => 0);
        fs.forEach((f, i) => f.links.forEach((l) => (load[l]! += r[i]!)));
        load.forEach((x, l) => expect(x).toBeLessThanOrEqual(links[l]!.capacity * (1 + 1e-9)));
        fs.forEach((f, i) => {
          expect(r[i]!).toBeLessThanOrEqual(f.demand * (1 + 1e-9));
          // Bottlenecked: at its demand, or on a full link where it has the largest rate.
          const atDemand = r[i]! >= f.demand * (1 - 1e-9);
          const onFullLink = f.links.some((l) => load[l]! >= links[l]!.capacity * (1 - 1e-9) && fs.every((g, j) => !g.links.includes(l) || r[j]! <= r[i]! * (1 + 1e-9)));
          expect(atDemand || onFullLink).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });
});
