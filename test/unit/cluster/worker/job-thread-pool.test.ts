import { afterEach, describe, expect, it } from 'vitest';
import { JobThreadPool } from '../../../../shared/src/cluster/worker/job-thread-pool.js';
import { migrationJobSchema, type MigrationJob } from '../../../../shared/src/migration/job/migration-job.js';
import { migrationResultSchema } from '../../../../shared/src/migration/job/migration-result.js';

const FAULTY = new URL('../../../helpers/faulty-job-thread.mjs', import.meta.url);

/** A job for the stand-in thread (it reads only these fields). */
const job = (fields: { behaviour?: string; value?: number; delayMs?: number }) => fields as unknown as MigrationJob;

let pool: JobThreadPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('JobThreadPool', () => {
  it('runs a real migration job on the real simulation thread', async () => {
    pool = new JobThreadPool(1);
    const input = migrationJobSchema.parse({ vm: { ram_bytes: 4 * 2 ** 30, vcpus: 2, workload: { kind: 'uniform', dirty_rate_bytes_per_s: 50 * 2 ** 20 } } });
    const result = migrationResultSchema.parse(JSON.parse(await pool.run(input)));
    expect(result.status).toBe('completed');
  }, 30_000);

  it('says when its threads have loaded their modules, with their OS thread ids', async () => {
    pool = new JobThreadPool(2);
    await pool.ready();
    const tids = pool.threadIds;
    expect(tids).toHaveLength(2);
    if (process.platform === 'linux') for (const tid of tids) expect(Number.isInteger(tid) && tid !== process.pid).toBe(true);
  }, 30_000);

  for (const [behaviour, reason] of [
    ['throw-later', 'boom in the thread'],
    ['exit', 'exit code 3'],
    ['exhaust-heap', 'out of memory'],
  ] as const) {
    it(`a thread that dies (${behaviour}) fails its job alone with the reason; the other thread's job and later jobs complete`, async () => {
      pool = new JobThreadPool(2, { script: FAULTY, maxHeapMb: 32 });
      // The slow job goes to thread 0, the fatal one to thread 1 (least pending first).
      const slow = pool.run(job({ value: 1, delayMs: 300 }));
      const fatal = pool.run(job({ behaviour }));
      await expect(fatal).rejects.toThrow(/simulation thread died/);
      await expect(fatal).rejects.toThrow(new RegExp(reason, 'i'));
      expect(JSON.parse(await slow)).toEqual({ echo: 1 });
      expect(pool.replaced).toBe(1);
      const later = await Promise.all([2, 3, 4, 5].map((value) => pool!.run(job({ value }))));
      expect(later.map((r) => JSON.parse(r))).toEqual([2, 3, 4, 5].map((echo) => ({ echo })));
    }, 30_000);
  }

  it('runs a batch on the real threads, one share per thread, in order; a job that throws fails alone', async () => {
    pool = new JobThreadPool(2);
    const good = migrationJobSchema.parse({ vm: { ram_bytes: 4 * 2 ** 30, vcpus: 2, workload: { kind: 'uniform', dirty_rate_bytes_per_s: 50 * 2 ** 20 } } });
    const outcomes = await pool.runMany([good, { ...good, kernel: undefined } as unknown as MigrationJob, good]);
    expect(outcomes).toHaveLength(3);
    expect('result' in outcomes[0]! && migrationResultSchema.parse(JSON.parse(outcomes[0].result)).status).toBe('completed');
    expect('error' in outcomes[1]!).toBe(true);
    expect('result' in outcomes[2]! && outcomes[2].result).toBe('result' in outcomes[0]! && outcomes[0].result);
  }, 30_000);

  it('a thread that dies fails only its share of a batch, with the reason; the other share stands', async () => {
    pool = new JobThreadPool(2, { script: FAULTY });
    const outcomes = await pool.runMany([job({ value: 1 }), job({ value: 2 }), job({ behaviour: 'exit' }), job({ value: 4 })]);
    expect(outcomes.slice(0, 2).map((o) => ('result' in o ? JSON.parse(o.result) : o.error))).toEqual([{ echo: 1 }, { echo: 2 }]);
    for (const o of outcomes.slice(2)) expect('error' in o && o.error).toMatch(/simulation thread died .*exit code 3/);
    expect(pool.replaced).toBe(1);
  }, 30_000);

  it('rejects jobs after close and does not replace the threads it terminates', async () => {
    pool = new JobThreadPool(2, { script: FAULTY });
    await pool.close();
    await expect(pool.run(job({ value: 1 }))).rejects.toThrow('thread pool closed');
    expect(pool.replaced).toBe(0);
  });
});
