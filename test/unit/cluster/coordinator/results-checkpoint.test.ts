import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointedTransport } from '../../../../shared/src/cluster/coordinator/checkpointed-transport.js';
import { CheckpointInvalid } from '../../../../shared/src/cluster/coordinator/errors/index.js';
import { ResultsCheckpoint } from '../../../../shared/src/cluster/coordinator/results-checkpoint.js';
import type { JobEnvelope, JobOutcome, JobTransport } from '../../../../shared/src/cluster/fleet/job-transport.js';
import { resultWith } from '../fleet/fleet-fixtures.js';

const file = (): string => join(mkdtempSync(join(tmpdir(), 'migsim-ckpt-')), 'results.checkpoint.ndjson');
const outcome = (i: number): JobOutcome => ({ id: `r.job-${i}`, result: resultWith({ total_time_s: 1 + i }) });

/** A transport that answers each job on the next call, and records what it was sent. */
class EchoTransport implements JobTransport {
  sent: string[] = [];
  private ready: JobOutcome[] = [];
  async submit(e: JobEnvelope): Promise<void> {
    this.sent.push(e.id);
    this.ready.push({ id: e.id, result: resultWith({ total_time_s: Number(e.id.split('-')[1]) + 1 }) });
  }
  async nextResults(): Promise<JobOutcome[]> {
    const out = this.ready;
    this.ready = [];
    return out;
  }
  async close(): Promise<void> {}
}

describe('ResultsCheckpoint', () => {
  it('reads back what was appended, each result once', () => {
    const f = file();
    const c = ResultsCheckpoint.open(f);
    c.append([outcome(1), outcome(2)]);
    c.append([outcome(3)]);
    c.close();
    const back = ResultsCheckpoint.open(f);
    expect(back.size).toBe(3);
    expect(back.take('r.job-2')?.total_time_s).toBe(3);
    expect(back.take('r.job-2')).toBeUndefined();
    expect(back.truncatedLines).toBe(0);
    back.close();
  });

  it('writes a result’s text as it arrived (one line even when that text spans lines) and reads back the same result', () => {
    const f = file();
    const c = ResultsCheckpoint.open(f);
    const a = outcome(1);
    const b = outcome(2);
    c.append([{ ...a, json: JSON.stringify(a.result) }, { ...b, json: JSON.stringify(b.result, null, 2) }]);
    c.close();
    expect(readFileSync(f, 'utf8').split('\n')).toHaveLength(3);
    const back = ResultsCheckpoint.open(f);
    expect(back.take('r.job-1')).toEqual(a.result);
    expect(back.take('r.job-2')).toEqual(b.result);
    back.close();
  });

  it('drops a last line cut short (a coordinator killed mid-write) and appends after the last whole line', () => {
    const f = file();
    const c = ResultsCheckpoint.open(f);
    c.append([outcome(1)]);
    c.close();
    appendFileSync(f, '{"id":"r.job-2","result":{"job":"migr');
    const back = ResultsCheckpoint.open(f);
    expect(back.truncatedLines).toBe(1);
    expect(back.size).toBe(1);
    back.append([outcome(3)]);
    back.close();
    const again = ResultsCheckpoint.open(f);
    expect([again.take('r.job-1'), again.take('r.job-3')].map((r) => r?.total_time_s)).toEqual([2, 4]);
    again.close();
  });

  it('reads back a checkpoint larger than one read (16 MiB), lines across the chunk boundaries, and cuts a torn tail', () => {
    const f = file();
    const c = ResultsCheckpoint.open(f);
    const n = 4000;
    for (let i = 0; i < n; i += 100) c.append(Array.from({ length: 100 }, (_, k) => outcome(i + k)));
    c.close();
    const size = readFileSync(f).length;
    expect(size).toBeGreaterThan(16 * 2 ** 20);
    appendFileSync(f, '{"id":"r.job-torn","res');
    const back = ResultsCheckpoint.open(f);
    expect(back.size).toBe(n);
    expect(back.truncatedLines).toBe(1);
    expect(readFileSync(f).length).toBe(size);
    for (const i of [0, 1234, 2999, 3000, n - 1]) expect(back.take(`r.job-${i}`)?.total_time_s).toBe(1 + i);
    back.close();
  });

  it('refuses a bad line in the middle with the file and line (CheckpointInvalid)', () => {
    const f = file();
    writeFileSync(f, `${JSON.stringify(outcome(1))}\n{"id":"x","result":{"status":"sideways"}}\n${JSON.stringify(outcome(2))}\n`);
    expect(() => ResultsCheckpoint.open(f)).toThrow(CheckpointInvalid);
    expect(() => ResultsCheckpoint.open(f)).toThrow(new RegExp(`${f.replace(/[.]/g, '\\.')}:2: result`));
  });
});

describe('CheckpointedTransport', () => {
  it('property: a coordinator killed after any number of results resumes without sending them again, trimming only what the checkpoint holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 30 }), async (n, killAfterRaw) => {
        const f = file();
        const killAfter = Math.min(n, killAfterRaw);
        const trimmed: string[] = [];
        const first = new EchoTransport();
        const t1 = new CheckpointedTransport(first, ResultsCheckpoint.open(f), async (ids) => {
          // Trim only what is already in the file.
          const inFile = new Set(readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id));
          for (const id of ids) expect(inFile.has(id)).toBe(true);
          trimmed.push(...ids);
        });
        for (let i = 0; i < killAfter; i++) {
          await t1.submit({ id: `r.job-${i}`, job: {} as never });
          await t1.nextResults();
        }
        await t1.close();
        expect(trimmed.length).toBe(killAfter);
        const second = new EchoTransport();
        const t2 = new CheckpointedTransport(second, ResultsCheckpoint.open(f), async () => {});
        const got: JobOutcome[] = [];
        for (let i = 0; i < n; i++) {
          await t2.submit({ id: `r.job-${i}`, job: {} as never });
          got.push(...(await t2.nextResults()));
        }
        expect(second.sent).toEqual(Array.from({ length: n - killAfter }, (_, k) => `r.job-${killAfter + k}`));
        expect(t2.jobsFromCheckpoint).toBe(killAfter);
        expect(got.map((o) => [o.id, o.result.total_time_s])).toEqual(Array.from({ length: n }, (_, i) => [`r.job-${i}`, i + 1]));
        await t2.close();
      }),
      { numRuns: 25 },
    );
  });
});
