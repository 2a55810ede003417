import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatRate,
  formatSize,
  formatTimespec,
  parseDuration,
  parseRate,
  parseSize,
  parseSizeStrict,
} from '../../../shared/src/common/units.js';

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

/** |actual - expected| <= rel * |expected|. */
function expectClose(actual: number | undefined, expected: number, rel: number, label: string): void {
  expect(actual, label).toBeDefined();
  expect(Math.abs(actual! - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('parseRate', () => {
  it('reads binary byte, decimal byte and decimal bit rates to the exact value', () => {
    const cases: [string, number][] = [
      ['128MiB/s', 134217728],
      ['200MiB/s', 200 * 2 ** 20],
      ['1B/s', 1],
      ['4KiB/s', 4096],
      ['3GiB/s', 3 * 2 ** 30],
      ['2TiB/s', 2 * 2 ** 40],
      ['1kB/s', 1e3],
      ['1KB/s', 1e3],
      ['1.5GB/s', 1.5e9],
      ['250MB/s', 2.5e8],
      ['2TB/s', 2e12],
      ['1.1kB/s', 1100],
      ['0.1GB/s', 1e8],
      ['8bit/s', 1],
      ['1bit/s', 0.125],
      ['1kbit/s', 125],
      ['1Kbit/s', 125],
      ['100Mbit/s', 1.25e7],
      ['10Gbit/s', 1.25e9],
      ['1.5Gbit/s', 1.875e8],
      ['1Tbit/s', 1.25e11],
      ['8bps', 1],
      ['1kbps', 125],
      ['1Kbps', 125],
      ['100Mbps', 1.25e7],
      ['1Gbps', 1.25e8],
      ['1Tbps', 1.25e11],
      ['4096', 4096],
      ['1.5', 1.5],
      ['0', 0],
      ['0Gbit/s', 0],
      ['007MB/s', 7e6],
      ['1.50MiB/s', 1.5 * 2 ** 20],
    ];
    for (const [text, bytesPerSecond] of cases) expect(parseRate(text), text).toBe(bytesPerSecond);
  });

  it('allows spaces between number and unit and around the whole', () => {
    expect(parseRate('128 MiB/s')).toBe(134217728);
    expect(parseRate(' 10 Gbit/s ')).toBe(1.25e9);
    expect(parseRate('\t1Gbps\n')).toBe(1.25e8);
    expect(parseRate(' 42 ')).toBe(42);
  });

  it('rejects negatives, non-numbers, unknown or wrongly cased units', () => {
    const bad = [
      '', ' ', 'MB/s', '-1MB/s', '-0', '+1MB/s', 'NaN', 'Infinity', '1e3', '1e3MB/s', '0x10', '1,5MB/s', '1.MB/s', '.5MB/s',
      '1MB', '1MiB', '1Mb/s', '1mb/s', '1mB/s', '1mbps', '1MBps', '1kiB/s', '1KIB/s', '1b/s', '1B', '1 MB /s', '1 M B/s',
      '1MB/s/s', '1 MB/s x', '1Mbit', '1Pbit/s', '1PiB/s', '1xyz', '1toString', '1constructor', '1__proto__', '1hasOwnProperty',
      `${'9'.repeat(400)}TiB/s`,
    ];
    for (const text of bad) expect(parseRate(text), JSON.stringify(text)).toBeUndefined();
  });

  it('n<unit> is n times the unit for every integer n', () => {
    const units: [string, number][] = [
      ['', 1], ['B/s', 1], ['KiB/s', 2 ** 10], ['MiB/s', 2 ** 20], ['GiB/s', 2 ** 30], ['TiB/s', 2 ** 40],
      ['kB/s', 1e3], ['KB/s', 1e3], ['MB/s', 1e6], ['GB/s', 1e9], ['TB/s', 1e12],
      ['bit/s', 0.125], ['kbit/s', 125], ['Kbit/s', 125], ['Mbit/s', 125e3], ['Gbit/s', 125e6], ['Tbit/s', 125e9],
      ['bps', 0.125], ['kbps', 125], ['Kbps', 125], ['Mbps', 125e3], ['Gbps', 125e6], ['Tbps', 125e9],
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...units), fc.constantFrom('', ' '), (n, [unit, mult], space) => {
        expect(parseRate(`${n}${space}${unit}`)).toBe(n * mult);
      }),
    );
  });

  it('reads a decimal as the nearest double to its exact value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.stringMatching(/^\d{1,6}$/), (whole, frac) => {
        expect(parseRate(`${whole}.${frac}GB/s`)).toBe(Number(`${whole}.${frac}e9`));
        expect(parseRate(`${whole}.${frac}Gbit/s`)).toBe(Number(`${whole}.${frac}e9`) / 8);
        expect(parseRate(`${whole}.${frac}`)).toBe(Number(`${whole}.${frac}`));
      }),
    );
  });
});

describe('parseDuration', () => {
  it('reads every unit to the exact value', () => {
    const cases: [string, number][] = [
      ['300ms', 0.3],
      ['10m', 600],
      ['10min', 600],
      ['2h', 7200],
      ['250us', 0.00025],
      ['250\u00b5s', 0.00025],
      ['250\u03bcs', 0.00025],
      ['1500ns', 1.5e-6],
      ['1ns', 1e-9],
      ['1.5s', 1.5],
      ['45s', 45],
      ['45', 45],
      ['0.25', 0.25],
      ['1.5h', 5400],
      ['0.1m', 6],
      ['0.3ms', 0.0003],
      ['0', 0],
      ['0ns', 0],
      [' 300 ms ', 0.3],
    ];
    for (const [text, seconds] of cases) expect(parseDuration(text), text).toBe(seconds);
  });

  it('rejects negatives, non-numbers and unknown or wrongly cased units', () => {
    const bad = [
      '', ' ', 's', 'ms', '-1s', '-0', '+1s', 'NaN', 'Infinity', '1e3', '1e-3s', '1.s', '.5s', '1,5s', '1x', '1S', '1M', '1H',
      '1Ms', '1MS', '1sec', '1secs', '1mins', '1hr', '1D', '1w', '1h30m', '1 m s', '1toString', '1__proto__', `${'9'.repeat(400)}h`,
    ];
    for (const text of bad) expect(parseDuration(text), JSON.stringify(text)).toBeUndefined();
  });

  it('reads a decimal with a sub-second unit as the nearest double to its exact value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999 }), fc.stringMatching(/^\d{1,6}$/), fc.constantFrom(['ns', -9], ['us', -6], ['ms', -3], ['s', 0]), (whole, frac, [unit, exp]) => {
        expect(parseDuration(`${whole}.${frac}${unit as string}`)).toBe(Number(`${whole}.${frac}e${exp as number}`));
      }),
    );
  });
});

describe('parseSizeStrict', () => {
  it('reads binary single letters and iB units like parseSize, and B / decimal units exactly', () => {
    const cases: [string, number][] = [
      ['1G', 2 ** 30],
      ['4g', 4 * 2 ** 30],
      ['512M', 512 * 2 ** 20],
      ['4096K', 4096 * 1024],
      ['4096k', 4096 * 1024],
      ['2T', 2 * 2 ** 40],
      ['1t', 2 ** 40],
      ['1KiB', 1024],
      ['1MiB', 2 ** 20],
      ['1GiB', 2 ** 30],
      ['1TiB', 2 ** 40],
      ['1.5G', 1.5 * 2 ** 30],
      ['1.5 GiB', 1.5 * 2 ** 30],
      ['1kB', 1e3],
      ['1KB', 1e3],
      ['500MB', 5e8],
      ['1GB', 1e9],
      ['1.5GB', 1.5e9],
      ['2TB', 2e12],
      ['0.3KB', 300],
      ['4096', 4096],
      ['4096B', 4096],
      ['1.0B', 1],
      ['0', 0],
      [' 64M ', 64 * 2 ** 20],
    ];
    for (const [text, bytes] of cases) expect(parseSizeStrict(text), text).toBe(bytes);
  });

  it('rejects the forms parseSize tolerates but should not: 1iB, 1bib, bare fractions, bit-like lower case', () => {
    for (const text of ['1iB', '1bib', '1.5', '1.0', '1gb', '1Gb', '1kb', '1mb', '1b', '1gib', '1KIB', '1kiB', '1Kib']) {
      expect(parseSizeStrict(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(parseSize('1iB')).toBe(1);
    expect(parseSize('1bib')).toBe(1);
    expect(parseSize('1gb')).toBe(2 ** 30);
  });

  it('rejects what parseSize rejects', () => {
    for (const text of ['abc', '-1G', '1X', '', 'G', '1 G B', '1GG', '1e3', '0x10', '1,5G', '1.G', '0.3K', '0.0003KB', '9999999999T', '1PB', '1toString']) {
      expect(parseSizeStrict(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('agrees with parseSize on n, nK..nT and nKiB..nTiB for every n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4095 }), fc.constantFrom('', 'B', 'K', 'k', 'M', 'm', 'G', 'g', 'T', 't', 'KiB', 'MiB', 'GiB', 'TiB'), (n, unit) => {
        const text = `${n}${unit}`;
        expect(parseSizeStrict(text), text).toBe(parseSize(text));
        expect(parseSizeStrict(text), text).toBeDefined();
      }),
    );
  });

  it('reads formatSize back exactly', () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 40 })).map(([a, b]) => a * 2 ** b), (n) => {
        expect(parseSizeStrict(formatSize(n))).toBe(n);
      }),
    );
  });
});

describe('formatRate', () => {
  it('uses the largest binary unit reached with at most 3 decimals', () => {
    expect(formatRate(134217728)).toBe('128MiB/s');
    expect(formatRate(1.25 * 2 ** 30)).toBe('1.25GiB/s');
    expect(formatRate(1.25e9)).toBe('1.164GiB/s');
    expect(formatRate(200 * 2 ** 20)).toBe('200MiB/s');
    expect(formatRate(4096)).toBe('4KiB/s');
    expect(formatRate(1023)).toBe('1023B/s');
    expect(formatRate(1536)).toBe('1.5KiB/s');
    expect(formatRate(3 * 2 ** 40)).toBe('3TiB/s');
    expect(formatRate(5000 * 2 ** 40)).toBe('5000TiB/s');
    expect(formatRate(0)).toBe('0B/s');
    expect(formatRate(-0)).toBe('0B/s');
    expect(formatRate(0.125)).toBe('0.125B/s');
    expect(formatRate(1e-7)).toBe('0.0000001B/s');
  });

  it('moves to the next unit when rounding reaches it', () => {
    expect(formatRate(2 ** 20 - 0.1)).toBe('1MiB/s');
    expect(formatRate(1023.9999)).toBe('1KiB/s');
  });

  it('rejects negative, NaN and infinite rates', () => {
    for (const x of [-1, -1e-9, Number.NaN, Infinity, -Infinity]) expect(() => formatRate(x), String(x)).toThrow(RangeError);
  });

  it('parses back to within a relative 1e-3, never using exponent notation', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 0, max: 2 ** 70, noNaN: true }), fc.double({ min: 0, max: 2 ** 32, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 2 ** 42 })),
        (x) => {
          const text = formatRate(x);
          expect(text).toMatch(/^\d+(\.\d+)?(B|KiB|MiB|GiB|TiB)\/s$/);
          expectClose(parseRate(text), x, 1e-3, text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('formatDuration', () => {
  it('uses the largest unit reached with at most 3 decimals', () => {
    expect(formatDuration(0.3)).toBe('300ms');
    expect(formatDuration(1.5)).toBe('1.5s');
    expect(formatDuration(7200)).toBe('2h');
    expect(formatDuration(600)).toBe('10m');
    expect(formatDuration(0.00025)).toBe('250us');
    expect(formatDuration(1e-9)).toBe('1ns');
    expect(formatDuration(45.73843951)).toBe('45.738s');
    expect(formatDuration(90)).toBe('1.5m');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-0)).toBe('0s');
    expect(formatDuration(2.5e-10)).toBe('0.25ns');
  });

  it('moves to the next unit when rounding reaches it', () => {
    expect(formatDuration(59.9999)).toBe('1m');
    expect(formatDuration(0.9999999)).toBe('1s');
    expect(formatDuration(3599.99)).toBe('1h');
  });

  it('rejects negative, NaN and infinite durations', () => {
    for (const x of [-1, -1e-12, Number.NaN, Infinity]) expect(() => formatDuration(x), String(x)).toThrow(RangeError);
  });

  it('parses back to within a relative 1e-3, never using exponent notation', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 120, noNaN: true }), fc.double({ min: 0, max: 1e-3, noNaN: true }), fc.integer({ min: 0, max: 10 ** 6 })),
        (x) => {
          const text = formatDuration(x);
          expect(text).toMatch(/^\d+(\.\d+)?(ns|us|ms|s|m|h)$/);
          expectClose(parseDuration(text), x, 1e-3, text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
