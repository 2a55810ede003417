import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSize, formatTimespec, parseSize } from '../../../shared/src/common/units.js';

describe('parseSize', () => {
  it('reads binary multiples, case-insensitively, with optional iB / B', () => {
    expect(parseSize('1G')).toBe(2 ** 30);
    expect(parseSize('4g')).toBe(4 * 2 ** 30);
    expect(parseSize('512M')).toBe(512 * 2 ** 20);
    expect(parseSize('10M')).toBe(10 * 2 ** 20);
    expect(parseSize('1GiB')).toBe(2 ** 30);
    expect(parseSize('1gb')).toBe(2 ** 30);
    expect(parseSize('4096K')).toBe(4096 * 1024);
    expect(parseSize('2T')).toBe(2 * 2 ** 40);
    expect(parseSize('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseSize(' 64M ')).toBe(64 * 2 ** 20);
  });

  it('reads a bare number as bytes', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('0')).toBe(0);
    expect(parseSize('4096B')).toBe(4096);
  });

  it('rejects what is not a size', () => {
    for (const bad of ['abc', '-1G', '1X', '', 'G', '1 G B', '1GG', '1e3', '0x10', '1,5G', '1.G']) {
      expect(parseSize(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('rejects fractions that are not a whole number of bytes and sizes past 2^53', () => {
    expect(parseSize('0.3K')).toBeUndefined();
    expect(parseSize('9999999999T')).toBeUndefined();
  });

  it('n, nK, nM, nG, nT are n times the multiple for every n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4095 }), fc.constantFrom(['', 1], ['k', 2 ** 10], ['M', 2 ** 20], ['g', 2 ** 30], ['T', 2 ** 40]), (n, [suffix, mult]) => {
        expect(parseSize(`${n}${suffix as string}`)).toBe(n * (mult as number));
        if (suffix !== '') expect(parseSize(`${n}${suffix as string}iB`)).toBe(n * (mult as number));
      }),
    );
  });
});

describe('formatSize', () => {
  it('uses the largest binary suffix that divides the size exactly', () => {
    expect(formatSize(2 ** 30)).toBe('1GiB');
    expect(formatSize(96 * 2 ** 30)).toBe('96GiB');
    expect(formatSize(4096)).toBe('4KiB');
    expect(formatSize(2 ** 40)).toBe('1TiB');
    expect(formatSize(3 * 2 ** 20 + 4096)).toBe('3076KiB');
    expect(formatSize(1536)).toBe('1536B');
    expect(formatSize(0)).toBe('0B');
  });

  it('parses back to the same number of bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 50 }), fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 40 })).map(([a, b]) => a * 2 ** b)), (n) => {
        expect(parseSize(formatSize(n))).toBe(n);
      }),
    );
  });
});

describe('formatTimespec', () => {
  it('prints seconds as %ld.%09ld like the selftest', () => {
    expect(formatTimespec(45.73843951)).toBe('45.738439510s');
    expect(formatTimespec(0.001683739)).toBe('0.001683739s');
    expect(formatTimespec(0)).toBe('0.000000000s');
    expect(formatTimespec(2)).toBe('2.000000000s');
    expect(formatTimespec(1e-9)).toBe('0.000000001s');
    expect(formatTimespec(123456.5)).toBe('123456.500000000s');
  });

  it('rounds to the nearest nanosecond, carrying into the seconds', () => {
    expect(formatTimespec(0.9999999996)).toBe('1.000000000s');
    expect(formatTimespec(1.0000000004)).toBe('1.000000000s');
    expect(formatTimespec(4e-10)).toBe('0.000000000s');
  });

  it('parses back to x within 1e-9 for x in [0, 1e6], always with nine decimals', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true })), (x) => {
        const text = formatTimespec(x);
        expect(text).toMatch(/^\d+\.\d{9}s$/);
        expect(Math.abs(Number(text.slice(0, -1)) - x)).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 2000 },
    );
  });

  it('is monotonic', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(Number(formatTimespec(lo).slice(0, -1))).toBeLessThanOrEqual(Number(formatTimespec(hi).slice(0, -1)));
      }),
    );
  });
});
