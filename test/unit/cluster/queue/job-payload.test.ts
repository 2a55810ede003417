import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSizeUpTo } from '../../../../shared/src/common/json-size.js';
import { PayloadTooLarge } from '../../../../shared/src/cluster/queue/errors/payload-too-large.js';
import { parseJobPayload } from '../../../../shared/src/cluster/queue/job-payload.js';
import { MAX_PAYLOAD_BYTES } from '../../../../shared/src/cluster/queue/queue-defaults.js';

const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v ?? null), 'utf8');

describe('payload size, measured without serialising', () => {
  it('equals the UTF-8 size of the JSON when it fits, and exceeds the limit exactly when the JSON does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 400 }), (v, limit) => {
        expect(jsonSizeUpTo(v, Number.POSITIVE_INFINITY)).toBe(jsonBytes(v));
        const n = jsonSizeUpTo(v, limit);
        if (jsonBytes(v) <= limit) expect(n).toBe(jsonBytes(v));
        else {
          expect(n).toBeGreaterThan(limit);
          expect(n).toBeLessThanOrEqual(jsonBytes(v));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('follows JSON.stringify for undefined, functions, non-ASCII text, toJSON and non-finite numbers', () => {
    for (const v of [undefined, null, { a: undefined, b: () => 1, c: 'x' }, [undefined, () => 1], 'é€😀', '\u0000"\\', { d: new Date(0) }, [NaN, -Infinity, -0, 1e21]]) {
      expect(jsonSizeUpTo(v, Number.POSITIVE_INFINITY)).toBe(jsonBytes(v));
    }
  });

  it('stops early on huge strings, arrays and deep nesting', () => {
    const big = 'x'.repeat(8 * 2 ** 20);
    expect(jsonSizeUpTo({ junk: big }, MAX_PAYLOAD_BYTES)).toBeGreaterThan(8 * 2 ** 20);
    expect(jsonSizeUpTo(new Array(10_000_000).fill(0), MAX_PAYLOAD_BYTES)).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(jsonSizeUpTo(deep, MAX_PAYLOAD_BYTES)).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    expect(jsonSizeUpTo(deep, Number.POSITIVE_INFINITY)).toBe(400_001);
  });

  it('allocates next to nothing to measure a multi-MiB payload (no serialisation)', () => {
    const payload = { run_id: 'r', id: 'a', junk: 'x'.repeat(64 * 2 ** 20) };
    const heap0 = process.memoryUsage().heapUsed;
    const n = jsonSizeUpTo(payload, MAX_PAYLOAD_BYTES);
    const grown = process.memoryUsage().heapUsed - heap0;
    expect(n).toBeGreaterThan(64 * 2 ** 20);
    // JSON.stringify would have made a 64 MiB string
    expect(grown).toBeLessThan(2 ** 20);
    expect(() => parseJobPayload(payload)).toThrow(PayloadTooLarge);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(2 ** 20);
  });
});

describe('parseJobPayload', () => {
  it('rejects an oversized payload with PayloadTooLarge before validating it', () => {
    const e = (() => {
      try {
        parseJobPayload({ run_id: 'r', id: 'a', job: 'x'.repeat(2 ** 20) });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(PayloadTooLarge);
    expect((e as PayloadTooLarge).message).toMatch(new RegExp(`payload of at least \\d+ bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`));
    expect((e as PayloadTooLarge).atLeastBytes).toBeGreaterThan(2 ** 20);
    // UTF-8 bytes, not UTF-16 units: n euro signs are 3n bytes, over the limit while n is well under it
    const euros = Math.ceil(MAX_PAYLOAD_BYTES / 3) + 100;
    expect(euros).toBeLessThan(MAX_PAYLOAD_BYTES / 2);
    expect(() => parseJobPayload({ x: '€'.repeat(euros) })).toThrow(PayloadTooLarge);
  });

  it('lists at most a few problems of a payload with many', () => {
    const junk = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    let message = '';
    try {
      parseJobPayload([junk, junk]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^invalid job payload: \(top level\)/);
    try {
      parseJobPayload({ ...junk, run_id: 1, id: 2, job: 3 });
    } catch (e) {
      message = (e as Error).message;
    }
    // one issue names 500 keys: cut
    expect(message).toMatch(/Unrecognized keys: "k0", "k1"/);
    expect(message).not.toMatch(/"k499"/);
    const wrong = Object.fromEntries(['max_bandwidth_bytes_per_s', 'link_bandwidth_bytes_per_s', 'downtime_limit_s', 'auto_converge', 'dirty_limit_bytes_per_s', 'timeout_s', 'cancel_at_s', 'fail_at_s', 'horizon_s'].map((k) => [k, 'no']));
    try {
      parseJobPayload({ run_id: 'r', id: 'a', job: { vm: 'x', migration: wrong } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^invalid job payload: job\.vm: .*; and 2 more$/);
  });
});
