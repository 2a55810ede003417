import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DRAIN_ORDERS, drainWaves } from '../../../../shared/src/cluster/policy/drain-waves.js';

const rackOf = (h: number, perRack: number) => Math.floor(h / perRack);

/** A cluster (racks × hosts per rack), the first `take` hosts to drain, a wave size and an order. */
const drains = fc
  .record({ racks: fc.integer({ min: 1, max: 12 }), perRack: fc.integer({ min: 1, max: 12 }), waveSize: fc.integer({ min: 1, max: 30 }), order: fc.constantFrom(...DRAIN_ORDERS), cut: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map((d) => {
    const total = d.racks * d.perRack;
    const ids = Array.from({ length: Math.max(1, Math.round(total * d.cut)) }, (_, i) => i);
    return { ...d, ids };
  });

describe('drainWaves (properties)', () => {
  it('every host exactly once, waves of 1 to waveSize hosts', () => {
    fc.assert(
      fc.property(drains, ({ ids, waveSize, perRack, order }) => {
        const waves = drainWaves(ids, waveSize, perRack, order);
        expect(waves.flat().sort((a, b) => a - b)).toEqual(ids);
        for (const w of waves) {
          expect(w.length).toBeGreaterThan(0);
          expect(w.length).toBeLessThanOrEqual(waveSize);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rack: a wave spans two racks only when waveSize > hostsPerRack, and then holds whole racks', () => {
    fc.assert(
      fc.property(drains, ({ ids, waveSize, perRack }) => {
        const waves = drainWaves(ids, waveSize, perRack, 'rack');
        const seen = new Set<number>();
        for (const w of waves) {
          const racks = new Set(w.map((h) => rackOf(h, perRack)));
          if (waveSize <= perRack) expect(racks.size).toBe(1);
          if (racks.size > 1) for (const r of racks) expect(seen.has(r)).toBe(false);
          for (const r of racks) seen.add(r);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('spread: with waveSize ≤ racks, no wave holds two hosts of one rack', () => {
    fc.assert(
      fc.property(drains, ({ ids, waveSize, perRack }) => {
        const racks = new Set(ids.map((h) => rackOf(h, perRack))).size;
        fc.pre(waveSize <= racks);
        for (const w of drainWaves(ids, waveSize, perRack, 'spread')) expect(new Set(w.map((h) => rackOf(h, perRack))).size).toBe(w.length);
      }),
      { numRuns: 500 },
    );
  });

  it('host order is consecutive ids', () => {
    fc.assert(
      fc.property(drains, ({ ids, waveSize, perRack }) => {
        const waves = drainWaves(ids, waveSize, perRack, 'host');
        waves.forEach((w, i) => expect(w).toEqual(ids.slice(i * waveSize, (i + 1) * waveSize)));
      }),
    );
  });
});

describe('drainWaves (examples)', () => {
  const ids = Array.from({ length: 12 }, (_, i) => i);
  it('rack equals host order when waves align with racks; splits a wave at a rack boundary otherwise', () => {
    expect(drainWaves(ids, 2, 4, 'rack')).toEqual(drainWaves(ids, 2, 4, 'host'));
    expect(drainWaves(ids, 3, 4, 'rack')).toEqual([[0, 1, 2], [3], [4, 5, 6], [7], [8, 9, 10], [11]]);
    expect(drainWaves(ids, 8, 4, 'rack')).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11]]);
    expect(drainWaves(ids, 6, 4, 'rack')).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
  });
  it('spread takes one host per rack in turn', () => {
    expect(drainWaves(ids, 3, 4, 'spread')).toEqual([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
    expect(drainWaves(ids, 2, 4, 'spread')).toEqual([[0, 4], [8, 1], [5, 9], [2, 6], [10, 3], [7, 11]]);
    expect(drainWaves(ids, 6, 4, 'spread')).toEqual([[0, 4, 8, 1, 5, 9], [2, 6, 10, 3, 7, 11]]);
  });
  it('rejects a wave size or rack size below 1', () => {
    expect(() => drainWaves(ids, 0, 4, 'host')).toThrow(RangeError);
    expect(() => drainWaves(ids, 2, 0, 'rack')).toThrow(RangeError);
  });
});
