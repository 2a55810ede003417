import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';
import { DISABLE_STRATEGIES } from '../../../shared/src/kernel/mmu/disable-strategy.js';
import { BACKING_SOURCES } from '../../../shared/src/kernel/mmu/backing-source.js';
import { COMMON_RELEASES } from '../../../shared/src/kernel/host/kernel-version.js';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import type { MigrationResult } from '../../../shared/src/migration/job/migration-result.js';
import { runPrecopy } from '../../../shared/src/migration/precopy/precopy.js';
import { PrecopyRun } from '../../../shared/src/migration/precopy/precopy-run.js';
import { RateHistory } from '../../../shared/src/migration/precopy/rate-history.js';
import { historyWire } from '../../../shared/src/migration/precopy/wire.js';
import { runs } from '../../helpers/mmu-driver.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A time now and then (a third of the jobs), null otherwise. */
const sometimes = (t: fc.Arbitrary<number>): fc.Arbitrary<number | null> => fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: t });

/** A random job: kernel (either MMU in effect, any strategy its release takes), backing, workload, QEMU settings, interrupts. */
const jobInput = fc
  .record({
    gib: fc.integer({ min: 1, max: 16 }),
    vcpus: fc.integer({ min: 1, max: 32 }),
    backing: fc.constantFrom(...BACKING_SOURCES),
    thp: fc.double({ min: 0, max: 1, noNaN: true }),
    workload: fc.oneof(
      fc.record({ kind: fc.constant('idle' as const) }),
      fc.record({ kind: fc.constant('uniform' as const), dirty_rate_bytes_per_s: fc.integer({ min: 0, max: 800 }).map((m) => m * MiB), working_set: fc.double({ min: 0.01, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('hotcold' as const), dirty_rate_bytes_per_s: fc.integer({ min: 0, max: 800 }).map((m) => m * MiB), utilisation: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('memstress' as const), write_percent: fc.integer({ min: 0, max: 100 }), pass_seconds: fc.double({ min: 0.2, max: 20, noNaN: true }) }),
    ),
    dirtyRing: fc.constantFrom(null, 4096),
    release: fc.constantFrom(...COMMON_RELEASES),
    tdpMmu: fc.option(fc.boolean(), { nil: undefined }),
    strategy: fc.option(fc.constantFrom(...DISABLE_STRATEGIES), { nil: undefined }),
    manualProtect: fc.boolean(),
    autoConverge: fc.boolean(),
    postcopy: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
    timeout: fc.option(fc.double({ min: 0.5, max: 80, noNaN: true }), { nil: null }),
    action: fc.constantFrom('abort', 'postcopy', 'pause') as fc.Arbitrary<'abort' | 'postcopy' | 'pause'>,
    cancelAt: sometimes(fc.double({ min: 0, max: 120, noNaN: true })),
    failAt: sometimes(fc.double({ min: 0, max: 120, noNaN: true })),
    // A cancel soon after the completion timeout paused the VM: the source restarts, then stops logging.
    cancelAfterPause: sometimes(fc.double({ min: 0, max: 3, noNaN: true })),
    horizon: sometimes(fc.double({ min: 1, max: 100, noNaN: true })),
  })
  .map(
    (r): MigrationJobInput => ({
      vm: { ram_bytes: r.gib * GiB, vcpus: r.vcpus, backing: r.backing, thp_coverage: r.thp, workload: r.workload, dirty_ring_size: r.dirtyRing },
      kernel: { release: r.release, ...(r.tdpMmu === undefined ? {} : { tdp_mmu: r.tdpMmu }), ...(r.strategy === undefined ? {} : { strategy: r.strategy }), manual_protect: r.manualProtect },
      migration: {
        max_bandwidth_bytes_per_s: 10e9,
        link_bandwidth_bytes_per_s: 2e9,
        auto_converge: r.autoConverge,
        postcopy: r.postcopy,
        timeout_s: r.timeout,
        timeout_action: r.action,
        cancel_at_s: r.cancelAfterPause !== null && r.timeout !== null ? r.timeout + r.cancelAfterPause : r.cancelAt,
        ...(r.horizon === null ? {} : { horizon_s: r.horizon }),
        fail_at_s: r.failAt,
      },
    }),
  );

/** Rate changes: gaps after the last, s, and the new rate (0 now and then: a starved flow). */
const rateChanges = fc.array(fc.tuple(fc.double({ min: 0.001, max: 20, noNaN: true }), fc.oneof(fc.constant(0), fc.double({ min: 0.02e9, max: 2e9, noNaN: true }))), { maxLength: 16 });

/** What the fleet reads of a run as it goes, event by event: when the next event is due, what it sends under, its time. */
type Trace = [number, string | null, number][];

/** Runs a job as the coordinator does, rates learnt as time goes; returns its trace and its result. */
function coordinatorRun(input: MigrationJobInput, changes: readonly (readonly [number, number])[], counterfactuals: boolean): { trace: Trace; result: MigrationResult } {
  const job = migrationJobSchema.parse(input);
  const history = new RateHistory();
  const run = new PrecopyRun(job, DEFAULT_PROFILE, historyWire(history), undefined, { counterfactuals });
  const trace: Trace = [];
  const step = () => {
    trace.push([run.nextS(), run.sending, run.now]);
    run.advance();
  };
  history.push(0, 1e9);
  let at = 0;
  for (const [gap, rate] of changes) {
    at += gap;
    while (!run.done && run.nextS() <= at) step();
    if (run.done) break;
    history.push(at, rate);
  }
  // The last rate positive, so the run can end.
  if (!run.done) history.push(at + 1, 0.5e9);
  while (!run.done) step();
  trace.push([run.nextS(), run.sending, run.now]);
  return { trace, result: run.result() };
}

describe('a precopy run without counterfactuals (the coordinator) evaluates only the strategy in effect', () => {
  it('property: the same timeline to the bit (every event time, status, end, transfers, strategy-independent costs); only `mmu` is left out', () => {
    fc.assert(
      fc.property(jobInput, rateChanges, (input, changes) => {
        let full;
        try {
          full = coordinatorRun(input, changes, true);
        } catch (e) {
          // A kernel setting no such release can take is rejected by the schema: not a job.
          if (e instanceof Error && e.name === 'ZodError') return;
          throw e;
        }
        const lean = coordinatorRun(input, changes, false);
        expect(lean.trace).toEqual(full.trace);
        expect(lean.result.mmu).toBeNull();
        expect(lean.result).toEqual({ ...full.result, mmu: null });
        // toEqual compares numbers with Object.is: bit for bit. Said once more for the fields the fleet reads.
        expect(Object.is(lean.result.total_time_s, full.result.total_time_s)).toBe(true);
        expect(lean.result.status).toBe(full.result.status);
        expect(Object.is(lean.result.dirty_log_stopped_at_s, full.result.dirty_log_stopped_at_s)).toBe(true);
        // The in-effect disable is the one the full evaluation reports for it.
        const inEffect = full.result.mmu![full.result.strategy_in_effect]!;
        if (full.result.dirty_log_stopped_at_s !== null) expect(Object.is(lean.result.total_time_s, full.result.dirty_log_stopped_at_s + inEffect.disable_s)).toBe(true);
      }),
      { numRuns: runs(300) },
    );
  });

  it('a worker replay (counterfactuals on, the default) reports every strategy, as before', () => {
    const input: MigrationJobInput = {
      vm: { ram_bytes: 4 * GiB, vcpus: 4, workload: { kind: 'hotcold', dirty_rate_bytes_per_s: 100 * MiB } },
      migration: { max_bandwidth_bytes_per_s: 10e9, link_bandwidth_bytes_per_s: 1e9, cancel_at_s: 2 },
    };
    const r = runPrecopy(migrationJobSchema.parse(input), DEFAULT_PROFILE);
    expect(Object.keys(r.mmu!).sort()).toEqual(['promote', 'rmap-zap', 'zap', 'zap-batched', 'zap-leaf']);
    expect(r.mmu![r.strategy_in_effect]!.disable_ran).toBe(true);
  });
});
