import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, hash32, unitHash } from '../../../shared/src/engine/rng.js';

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.nextU32());

/** Pearson's chi-square statistic of `counts` against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/**
 * A loose upper bound for a chi-square statistic with `df` degrees of freedom: mean df, standard deviation
 * sqrt(2 df); df + 6 sd is exceeded with probability far below 1e-6 for a correct generator.
 */
const chiSquareBound = (df: number): number => df + 6 * Math.sqrt(2 * df);

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Rng seeding', () => {
  it('gives the same sequence for the same seed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string(), fc.maxSafeInteger()), (seed) => {
        expect(draws(Rng.fromSeed(seed), 16)).toEqual(draws(Rng.fromSeed(seed), 16));
      }),
    );
  });

  it('gives different sequences for different seeds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string()), fc.oneof(fc.integer(), fc.string()), (a, b) => {
        fc.pre(a !== b);
        expect(draws(Rng.fromSeed(a), 4)).not.toEqual(draws(Rng.fromSeed(b), 4));
      }),
    );
    // Numbers and their decimal strings are different seeds; so are neighbours.
    expect(draws(Rng.fromSeed(1), 4)).not.toEqual(draws(Rng.fromSeed('1'), 4));
    const firsts = new Set(Array.from({ length: 10_000 }, (_, seed) => Rng.fromSeed(seed).nextU32()));
    expect(firsts.size).toBeGreaterThan(9_980); // ~0.01 expected 32-bit birthday collisions
  });

  it.each([NaN, 1.5, Infinity, 2 ** 53])('rejects numeric seed %s', (seed) => {
    expect(() => Rng.fromSeed(seed)).toThrow(RangeError);
  });

  it('produces 32-bit unsigned integers with balanced bits', () => {
    const rng = Rng.fromSeed('bits');
    const n = 100_000;
    const ones = new Array<number>(32).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.nextU32();
      if (!(Number.isInteger(x) && x >= 0 && x < 2 ** 32)) outOfRange++;
      for (let b = 0; b < 32; b++) ones[b]! += (x >>> b) & 1;
    }
    expect(outOfRange).toBe(0);
    // Each bit is Binomial(n, 1/2): sd = sqrt(n)/2 ~ 158; allow 6 sd.
    for (const count of ones) expect(Math.abs(count - n / 2)).toBeLessThan(6 * Math.sqrt(n) / 2);
  });
});

describe('Rng.fork', () => {
  it('does not depend on how many numbers the parent has drawn', () => {
    fc.assert(
      fc.property(fc.integer(), fc.string(), fc.nat({ max: 200 }), (seed, label, drawn) => {
        const fresh = Rng.fromSeed(seed);
        const used = Rng.fromSeed(seed);
        draws(used, drawn);
        expect(draws(used.fork(label), 8)).toEqual(draws(fresh.fork(label), 8));
      }),
    );
  });

  it('does not disturb the parent stream', () => {
    const a = Rng.fromSeed(9);
    const b = Rng.fromSeed(9);
    a.fork('x').nextU32();
    expect(draws(a, 8)).toEqual(draws(b, 8));
  });

  it('gives different streams for different labels, parents, and from the parent itself', () => {
    const parent = Rng.fromSeed(123);
    const labels = ['a', 'b', 'ab', 'ba', '', 'worker-1', 'worker-10', '\u0000', 'a\u0000'];
    const streams = labels.map((label) => draws(parent.fork(label), 4).join());
    expect(new Set(streams).size).toBe(labels.length);
    expect(streams).not.toContain(draws(Rng.fromSeed(123), 4).join());
    expect(draws(Rng.fromSeed(124).fork('a'), 4)).not.toEqual(draws(parent.fork('a'), 4));
    expect(draws(parent.fork('a').fork('b'), 4)).not.toEqual(draws(parent.fork('b').fork('a'), 4));
  });

  it('gives uncorrelated sibling streams', () => {
    const parent = Rng.fromSeed('siblings');
    const x = parent.fork('x');
    const y = parent.fork('y');
    const n = 20_000;
    let sxy = 0;
    for (let i = 0; i < n; i++) sxy += (x.nextFloat() - 0.5) * (y.nextFloat() - 0.5);
    // Covariance of independent U(0,1): 0, with sd 1/(12 sqrt(n)) ~ 5.9e-4.
    expect(Math.abs(sxy / n)).toBeLessThan(6 / (12 * Math.sqrt(n)));
  });
});

describe('Rng distributions', () => {
  it('nextFloat lies in [0, 1) with mean 1/2 and uniform deciles', () => {
    const rng = Rng.fromSeed(1);
    const n = 100_000;
    const counts = new Array<number>(10).fill(0);
    let sum = 0;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat();
      if (!(u >= 0 && u < 1)) outOfRange++;
      else counts[Math.floor(u * 10)]!++;
      sum += u;
    }
    expect(outOfRange).toBe(0);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(6 * Math.sqrt(1 / 12 / n));
    expect(chiSquare(counts)).toBeLessThan(chiSquareBound(9));
  });

  it.each([1, 2, 3, 7, 10, 1000, 3 * 2 ** 30])('nextInt(%i) stays in bounds and is roughly uniform', (bound) => {
    const rng = Rng.fromSeed(`int-${bound}`);
    const buckets = Math.min(bound, 1000);
    const counts = new Array<number>(buckets).fill(0);
    const n = 200_000;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.nextInt(bound);
      if (!(Number.isInteger(x) && x >= 0 && x < bound)) outOfRange++;
      else counts[Math.floor((x * buckets) / bound)]!++;
    }
    expect(outOfRange).toBe(0);
    if (buckets > 1) expect(chiSquare(counts)).toBeLessThan(chiSquareBound(buckets - 1));
  });

  it('nextInt handles bounds above 2^32', () => {
    const rng = Rng.fromSeed('big');
    const bound = 3 * 2 ** 40 + 5;
    const counts = new Array<number>(16).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 50_000; i++) {
      const x = rng.nextInt(bound);
      if (!(Number.isSafeInteger(x) && x >= 0 && x < bound)) outOfRange++;
      else counts[Math.floor((x * 16) / bound)]!++;
    }
    expect(outOfRange).toBe(0);
    expect(chiSquare(counts)).toBeLessThan(chiSquareBound(15));
  });

  it.each([0, -1, 1.5, NaN, 2 ** 53])('nextInt rejects bound %s', (bound) => {
    expect(() => Rng.fromSeed(0).nextInt(bound)).toThrow(RangeError);
  });

  it('bernoulli(p) has mean p, and is exact at 0 and 1', () => {
    const rng = Rng.fromSeed('coin');
    const n = 100_000;
    for (const p of [0.3, 0.01, 0.5]) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (rng.bernoulli(p)) hits++;
      expect(Math.abs(hits / n - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / n));
    }
    let wrong = 0;
    for (let i = 0; i < 1000; i++) if (rng.bernoulli(0) || !rng.bernoulli(1)) wrong++;
    expect(wrong).toBe(0);
    expect(() => rng.bernoulli(1.01)).toThrow(RangeError);
    expect(() => rng.bernoulli(NaN)).toThrow(RangeError);
  });

  it('exponential(mean) is non-negative with the right mean and variance', () => {
    const rng = Rng.fromSeed('exp');
    const n = 100_000;
    const m = 2.5;
    const xs = Array.from({ length: n }, () => rng.exponential(m));
    expect(xs.every((x) => x >= 0 && Number.isFinite(x))).toBe(true);
    expect(Math.abs(mean(xs) - m)).toBeLessThan((6 * m) / Math.sqrt(n));
    const variance = mean(xs.map((x) => (x - m) ** 2));
    expect(Math.abs(variance / (m * m) - 1)).toBeLessThan(0.05);
    // Memorylessness sanity: P(X > m) = e^-1.
    expect(Math.abs(xs.filter((x) => x > m).length / n - Math.exp(-1))).toBeLessThan(0.01);
    expect(rng.exponential(0)).toBe(0);
    expect(() => rng.exponential(-1)).toThrow(RangeError);
  });

  it('geometric(p) counts failures: mean (1-p)/p, P(0) = p', () => {
    const rng = Rng.fromSeed('geo');
    const n = 100_000;
    for (const p of [0.2, 0.9, 0.001]) {
      const xs = Array.from({ length: n }, () => rng.geometric(p));
      expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
      const expectedMean = (1 - p) / p;
      const sd = Math.sqrt(1 - p) / p; // of one draw
      expect(Math.abs(mean(xs) - expectedMean)).toBeLessThan((6 * sd) / Math.sqrt(n));
      expect(Math.abs(xs.filter((x) => x === 0).length / n - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
    }
    expect(Array.from({ length: 100 }, () => rng.geometric(1)).every((x) => x === 0)).toBe(true);
    expect(() => rng.geometric(0)).toThrow(RangeError);
    expect(() => rng.geometric(1.5)).toThrow(RangeError);
  });
});

describe('hash32 and unitHash', () => {
  it('are pure functions of their parts', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeInteger(), { maxLength: 5 }), (parts) => {
        expect(hash32(...parts)).toBe(hash32(...parts));
        const h = hash32(...parts);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
      }),
    );
  });

  it('unitHash lies in [0, 1)', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeInteger(), { maxLength: 4 }), (parts) => {
        const u = unitHash(...parts);
        expect(u >= 0 && u < 1).toBe(true);
      }),
    );
  });

  it('never collides for single parts in [0, 2^32) (it is a bijection there)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) seen.add(hash32(i));
    expect(seen.size).toBe(200_000);
  });

  it('depends on order, arity and high bits', () => {
    expect(hash32(1, 2)).not.toBe(hash32(2, 1));
    expect(hash32(1)).not.toBe(hash32(1, 0));
    expect(hash32()).not.toBe(hash32(0));
    expect(hash32(5)).not.toBe(hash32(5 + 2 ** 32));
    expect(hash32(-1)).not.toBe(hash32(2 ** 32 - 1));
  });

  it('gives per-index decisions with the right frequency and no trend', () => {
    const seed = 77;
    const n = 100_000;
    const fraction = 0.3;
    let hits = 0;
    const counts = new Array<number>(20).fill(0);
    for (let i = 0; i < n; i++) {
      const u = unitHash(seed, i);
      if (u < fraction) hits++;
      counts[Math.floor(u * 20)]!++;
    }
    expect(Math.abs(hits / n - fraction)).toBeLessThan(6 * Math.sqrt((fraction * (1 - fraction)) / n));
    expect(chiSquare(counts)).toBeLessThan(chiSquareBound(19));
    // Consecutive indices are not correlated.
    let s = 0;
    for (let i = 0; i < n; i++) s += (unitHash(seed, i) - 0.5) * (unitHash(seed, i + 1) - 0.5);
    expect(Math.abs(s / n)).toBeLessThan(6 / (12 * Math.sqrt(n)));
  });

  it('flips about half the output bits when one input bit flips (avalanche)', () => {
    const popcount = (x: number): number => {
      let c = 0;
      for (let v = x >>> 0; v !== 0; v &= v - 1) c++;
      return c;
    };
    let flipped = 0;
    let trials = 0;
    for (let i = 0; i < 2000; i++) {
      for (let b = 0; b < 32; b++) {
        flipped += popcount(hash32(i * 7919) ^ hash32((i * 7919) ^ (1 << b)));
        trials++;
      }
    }
    expect(Math.abs(flipped / trials - 16)).toBeLessThan(0.2);
  });

  it('rejects parts that are not safe integers', () => {
    expect(() => hash32(0.5)).toThrow(RangeError);
    expect(() => hash32(NaN)).toThrow(RangeError);
    expect(() => unitHash(1, 2 ** 53)).toThrow(RangeError);
  });
});
