import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../../../shared/src/migration/job/run-migration-job.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { decodeResult, encodeResult } from '../../../../shared/src/cluster/queue/result-codec.js';

describe('stored results', () => {
  it('decode to the JSON text that was encoded, for any JSON text', () => {
    fc.assert(
      fc.property(fc.json(), (json) => {
        expect(decodeResult(encodeResult(json, true))).toBe(json);
      }),
      { numRuns: 500 },
    );
  });

  it('read results stored as plain JSON (before compression) as they are', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const json = JSON.stringify(obj);
        expect(decodeResult(Buffer.from(json, 'utf8'))).toBe(json);
      }),
    );
  });

  it('are stored as the JSON text itself when not compressed', () => {
    const json = JSON.stringify({ status: 'completed', total_time_s: 1.5 });
    const stored = encodeResult(json, false);
    expect(stored).toBe(json);
    expect(decodeResult(Buffer.from(stored, 'utf8'))).toBe(json);
  });

  it('take under a third of the JSON size for a migration result', () => {
    const job = migrationJobSchema.parse({ vm: { ram_bytes: 64 * 2 ** 30, vcpus: 16, workload: { kind: 'hotcold', dirty_rate_bytes_per_s: 200 * 2 ** 20 } } });
    const json = JSON.stringify(runMigrationJob(job, DEFAULT_PROFILE));
    const stored = encodeResult(json, true);
    expect(stored.length).toBeLessThan(json.length / 3);
    expect(decodeResult(stored)).toBe(json);
  });
});
