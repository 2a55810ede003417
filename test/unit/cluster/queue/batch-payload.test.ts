import { describe, expect, it } from 'vitest';
import { parseBatchPayload } from '../../../../shared/src/cluster/queue/batch-payload.js';
import { parseJobPayload } from '../../../../shared/src/cluster/queue/job-payload.js';
import { PayloadInvalid, PayloadTooLarge } from '../../../../shared/src/cluster/queue/errors/index.js';
import { MAX_BATCH_BYTES, MAX_BATCH_JOBS, MAX_PAYLOAD_BYTES } from '../../../../shared/src/cluster/queue/queue-defaults.js';

const JOB = { vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } };

describe('parseBatchPayload', () => {
  it('checks each entry alone: malformed ones are reported with their reason and id, the others parsed', () => {
    const { runId, entries } = parseBatchPayload({
      run_id: 'r1',
      jobs: [{ id: 'a', job: JOB }, { id: 'b', job: { vm: { ram_bytes: -1 } } }, 7, { id: 'x:y', job: JOB }, { id: 'big', job: { ...JOB, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) } }, { id: 'c', job: JOB }],
    });
    expect(runId).toBe('r1');
    expect(entries.map((e) => e.ok)).toEqual([true, false, false, false, false, true]);
    const bad = entries.filter((e) => !e.ok);
    expect(bad.map((e) => e.id)).toEqual(['b', undefined, undefined, 'big']);
    expect(bad[0]!.reason).toMatch(/^invalid job payload: job\.vm/);
    expect(bad[1]!.reason).toMatch(/\(top level\): .*expected object/);
    expect(bad[2]!.reason).toMatch(/id: .*no colon/);
    expect(bad[3]!.tooLarge).toBe(true);
    const ok = entries.filter((e) => e.ok);
    expect(ok.map((e) => e.payload.id)).toEqual(['a', 'c']);
    expect(ok[0]!.payload.run_id).toBe('r1');
  });

  it('an entry is judged as parseJobPayload judges it alone, whether or not the batch is small enough to skip measuring entries', () => {
    const raw = [{ id: 'a', job: JOB }, { id: 'b', job: { vm: { ram_bytes: -1 } } }, { id: 'c', job: JOB, extra: 1 }, { id: 'd', run_id: 'other', job: JOB }];
    const judge = (e: unknown) => {
      try {
        return { ok: true, payload: parseJobPayload({ run_id: 'r1', ...(e as object) }) };
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
    };
    for (const pad of [0, MAX_PAYLOAD_BYTES]) {
      // With pad, the batch is over the single-job limit (entries are measured one by one); without, it is not.
      const jobs = pad > 0 ? [...raw, { id: 'p', job: { ...JOB, pad: 'x'.repeat(pad) } }] : raw;
      const { entries } = parseBatchPayload({ run_id: 'r1', jobs });
      expect(entries.slice(0, raw.length).map((e) => (e.ok ? { ok: true, payload: e.payload } : { ok: false, reason: e.reason }))).toEqual(raw.map(judge));
    }
  });

  it('rejects a wrong envelope as a whole', () => {
    expect(() => parseBatchPayload({ run_id: 'r', jobs: [] })).toThrow(PayloadInvalid);
    expect(() => parseBatchPayload({ run_id: 'r:1', jobs: [{ id: 'a', job: JOB }] })).toThrow(/run_id/);
    expect(() => parseBatchPayload({ run_id: 'r', jobs: Array.from({ length: MAX_BATCH_JOBS + 1 }, (_, i) => ({ id: `j${i}`, job: JOB })) })).toThrow(PayloadInvalid);
    expect(() => parseBatchPayload({ run_id: 'r', jobs: [{ id: 'a', job: JOB }], extra: 1 })).toThrow(/Unrecognized key/);
    expect(() => parseBatchPayload({ run_id: 'r', jobs: [{ id: 'a', job: JOB, pad: 'x'.repeat(MAX_BATCH_BYTES) }] })).toThrow(PayloadTooLarge);
  });
});
