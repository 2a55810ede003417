import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/src/common/canonical-json.js';

/** The definition: JSON.stringify of a copy with every object's keys sorted. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

describe('canonicalJson', () => {
  it('sorts keys at every level, whatever their insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('writes array-index keys first, in numeric order, as JSON.stringify does', () => {
    expect(canonicalJson({ b: 0, 10: 'x', 2: 'y', a: 1 })).toBe('{"2":"y","10":"x","a":1,"b":0}');
  });

  it('gives the text of JSON.stringify on the sorted copy, for any JSON-like value', () => {
    const value = fc.anything({
      key: fc.oneof(fc.string(), fc.constantFrom('0', '1', '2', '10', '01', '-1', '4294967294', '4294967295', '__proto__', 'a"b', 'x\\y', '\u0007', '\ud800')),
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: false,
      withBigInt: false,
    });
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the digest inputs exact: numbers, special numbers and strings needing escapes', () => {
    for (const v of [0, -0, 1.5e-7, 1e21, 2 ** 53, NaN, Infinity, -Infinity, 'tab\tquote"back\\slash', '\ud83d\ude00', '\udc00', [undefined, () => 1], { u: undefined, f: () => 1 }]) {
      expect(canonicalJson(v)).toBe(reference(v));
    }
  });
});
