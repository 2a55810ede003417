import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapacityIndex, INELIGIBLE } from '../../../../shared/src/cluster/fleet/capacity-index.js';

/** The scan the index replaces: first host in id order with a strictly larger key. */
function scan(keys: readonly number[], need: number, accept: (h: number) => boolean): number {
  let best = -1;
  for (let h = 0; h < keys.length; h++) {
    if (keys[h] === INELIGIBLE || keys[h]! < need || !accept(h)) continue;
    if (best < 0 || keys[h]! > keys[best]!) best = h;
  }
  return best;
}

type Op = { kind: 'set'; host: number; key: number } | { kind: 'query'; need: number; rejected: boolean[] };

/** Keys from a small range, so that ties are common. */
const keyArb = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(INELIGIBLE));

function opArb(hostCount: number): fc.Arbitrary<Op> {
  const host = fc.integer({ min: 0, max: hostCount - 1 });
  return fc.oneof(
    fc.record({ kind: fc.constant('set' as const), host, key: keyArb }),
    fc.record({
      kind: fc.constant('query' as const),
      need: fc.integer({ min: 0, max: 5 }),
      rejected: fc.array(fc.boolean(), { minLength: hostCount, maxLength: hostCount }),
    }),
  );
}

describe('CapacityIndex', () => {
  it('finds nothing while every host is ineligible, and in an empty fleet', () => {
    expect(new CapacityIndex(5).best(0, () => true)).toBe(-1);
    expect(new CapacityIndex(0).best(0, () => true)).toBe(-1);
  });

  it('returns the largest key, the lowest host id among equal keys', () => {
    const index = new CapacityIndex(6);
    [3, 7, 5, 7, 1, 7].forEach((key, h) => index.set(h, key));
    expect(index.best(0, () => true)).toBe(1);
    expect(index.best(0, (h) => h !== 1)).toBe(3);
    expect(index.best(0, (h) => h % 2 === 0)).toBe(2);
  });

  it('returns only hosts with at least the key asked for', () => {
    const index = new CapacityIndex(3);
    [4, 6, 2].forEach((key, h) => index.set(h, key));
    expect(index.best(6, () => true)).toBe(1);
    expect(index.best(6, (h) => h !== 1)).toBe(-1);
    expect(index.best(7, () => true)).toBe(-1);
  });

  it('forgets a host made ineligible and sees it again when it is set back', () => {
    const index = new CapacityIndex(3);
    [4, 9, 2].forEach((key, h) => index.set(h, key));
    index.set(1, INELIGIBLE);
    expect(index.key(1)).toBe(INELIGIBLE);
    expect(index.best(0, () => true)).toBe(0);
    index.set(1, 3);
    expect(index.best(0, () => true)).toBe(0);
    index.set(1, 4);
    expect(index.best(0, () => true)).toBe(0);
    index.set(0, 1);
    expect(index.best(0, () => true)).toBe(1);
  });

  it('agrees with a scan of the hosts in id order over any sequence of updates and queries', () => {
    const caseArb = fc
      .integer({ min: 1, max: 40 })
      .chain((n) => fc.tuple(fc.array(keyArb, { minLength: n, maxLength: n }), fc.array(opArb(n), { maxLength: 200, size: 'max' })));
    fc.assert(
      fc.property(caseArb, ([initial, ops]) => {
        const index = new CapacityIndex(initial.length);
        const keys = [...initial];
        keys.forEach((key, h) => index.set(h, key));
        for (const op of ops) {
          if (op.kind === 'set') {
            index.set(op.host, op.key);
            keys[op.host] = op.key;
            continue;
          }
          const accept = (h: number) => !op.rejected[h];
          expect(index.best(op.need, accept)).toBe(scan(keys, op.need, accept));
        }
      }),
      { numRuns: 300 },
    );
  });
});
