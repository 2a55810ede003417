import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import { runPrecopy } from '../../../shared/src/migration/precopy/precopy.js';
import { PrecopyRun } from '../../../shared/src/migration/precopy/precopy-run.js';
import { RateHistory } from '../../../shared/src/migration/precopy/rate-history.js';
import { historyWire } from '../../../shared/src/migration/precopy/wire.js';
import { runs } from '../../helpers/mmu-driver.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

const job = (input: MigrationJobInput) => migrationJobSchema.parse(input);

/** A VM whose precopy and stop-and-copy both send at 1 GB/s: the link is below max-bandwidth and the stream's cap. */
const base = (dirty: number, extra: Partial<MigrationJobInput['migration']> = {}): MigrationJobInput => ({
  vm: { ram_bytes: 4 * GiB, vcpus: 4, workload: { kind: 'hotcold', dirty_rate_bytes_per_s: dirty } },
  migration: { max_bandwidth_bytes_per_s: 10e9, link_bandwidth_bytes_per_s: 1e9, ...extra },
});

describe('RateHistory: a flow rate over time, piecewise constant', () => {
  it('ends a transfer where the hand-computed integral of the rate reaches its bytes', () => {
    const h = RateHistory.fromFlat([0, 100, 10, 50, 20, 200]);
    expect(h.endOf(0, 500)).toBe(5);
    // 1000 bytes by t=10, 500 more take 10 s at 50, the rest at 200.
    expect(h.endOf(0, 1500)).toBe(20);
    expect(h.endOf(0, 1700)).toBe(21);
    expect(h.endOf(5, 1000)).toBe(20);
    expect(h.sentBy(5, 15)).toBe(500 + 250);
    expect(h.sentBy(0, 21)).toBe(1700);
  });

  it('sends nothing before its first point, and never ends a transfer whose rate drops to 0 for good', () => {
    const h = RateHistory.fromFlat([10, 100]);
    expect(h.endOf(0, 100)).toBe(11);
    expect(h.sentBy(0, 10)).toBe(0);
    expect(RateHistory.fromFlat([0, 100, 1, 0]).endOf(0, 200)).toBe(Infinity);
    expect(new RateHistory().endOf(0, 1)).toBe(Infinity);
  });

  it('keeps times increasing: a point at or before the last replaces its rate; a repeated rate adds nothing', () => {
    const h = new RateHistory();
    h.push(0, 100);
    h.push(5, 100);
    h.push(5, 50);
    h.push(4, 70);
    h.push(8, 70);
    h.push(9, 30);
    expect(h.toFlat()).toEqual([0, 100, 5, 70, 9, 30]);
    h.push(9, 70);
    expect(h.toFlat()).toEqual([0, 100, 5, 70]);
  });
});

describe('a migration replayed over its flow rates (the worker) ends where its run on the fleet clock did (the coordinator)', () => {
  it('with one constant rate, gives exactly the result of a link of its own at that rate', () => {
    for (const dirty of [0, 50 * MiB, 400 * MiB]) {
      const alone = runPrecopy(job(base(dirty)), DEFAULT_PROFILE);
      const replayed = runPrecopy(job(base(dirty, { rate_history: [0, 1e9] })), DEFAULT_PROFILE);
      expect(replayed).toEqual(alone);
    }
  });

  it('continues a pass that started at one rate at the next: slower than alone, faster than at the lower rate throughout', () => {
    const fast = runPrecopy(job(base(20 * MiB, { rate_history: [0, 1e9] })), DEFAULT_PROFILE);
    const slow = runPrecopy(job(base(20 * MiB, { rate_history: [0, 0.25e9] })), DEFAULT_PROFILE);
    const mixed = runPrecopy(job(base(20 * MiB, { rate_history: [0, 1e9, 2, 0.25e9] })), DEFAULT_PROFILE);
    expect(mixed.status).toBe('completed');
    expect(mixed.total_time_s).toBeGreaterThan(fast.total_time_s);
    expect(mixed.total_time_s).toBeLessThan(slow.total_time_s);
    // The first pass sends 4 GiB: 2 s at 1 GB/s (less setup) then the rest at 0.25 GB/s.
    expect(mixed.total_time_s).toBeGreaterThan(2 + (4 * GiB - 2e9) / 0.25e9);
  });

  it('property: rates changing at random times while the coordinator runs it, the replay gives the same status and end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 600 }),
        fc.array(fc.tuple(fc.double({ min: 0.01, max: 30, noNaN: true }), fc.double({ min: 0.05e9, max: 2e9, noNaN: true })), { minLength: 1, maxLength: 12 }),
        fc.option(fc.double({ min: 0.5, max: 40, noNaN: true }), { nil: null }),
        fc.constantFrom('abort', 'postcopy', 'pause') as fc.Arbitrary<'abort' | 'postcopy' | 'pause'>,
        (gib, dirtyMiB, changes, cancelAt, action) => {
          const input: MigrationJobInput = {
            vm: { ram_bytes: gib * GiB, vcpus: 4, workload: { kind: 'hotcold', dirty_rate_bytes_per_s: dirtyMiB * MiB } },
            migration: { max_bandwidth_bytes_per_s: 10e9, link_bandwidth_bytes_per_s: 2e9, cancel_at_s: cancelAt, timeout_s: 60, timeout_action: action },
          };
          const j = job(input);
          // The coordinator: rates learnt as time goes, each at a time the run has reached.
          const history = new RateHistory();
          const run = new PrecopyRun(j, DEFAULT_PROFILE, historyWire(history));
          history.push(0, 1e9);
          let at = 0;
          for (const [gap, rate] of changes) {
            at += gap;
            while (!run.done && run.nextS() <= at) run.advance();
            if (run.done) break;
            history.push(at, rate);
          }
          while (!run.done) run.advance();
          const coordinator = run.result();
          // The worker: the same job with the rates recorded.
          const worker = runPrecopy(job({ ...input, migration: { ...input.migration, rate_history: history.toFlat() } }), DEFAULT_PROFILE);
          expect(worker.status).toBe(coordinator.status);
          expect(worker.total_time_s).toBe(coordinator.total_time_s);
          expect(worker.ram.transferred_bytes).toBe(coordinator.ram.transferred_bytes);
        },
      ),
      { numRuns: runs(60) },
    );
  });
});
