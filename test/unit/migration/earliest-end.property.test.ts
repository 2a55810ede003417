import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKING_SOURCES, type BackingSource } from '../../../shared/src/kernel/mmu/backing-source.js';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';
import { strategiesOfMmu } from '../../../shared/src/kernel/mmu/disable-strategy.js';
import { COMMON_RELEASES } from '../../../shared/src/kernel/host/kernel-version.js';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../../shared/src/migration/job/run-migration-job.js';
import { earliestEndS } from '../../../shared/src/migration/precopy/earliest-end.js';
import { TIMEOUT_ACTIONS } from '../../../shared/src/migration/job/migration-job.js';
import { PROBE_MODES } from '../../../shared/src/migration/probe/probe-mode.js';
import { ACCESS_PATTERNS } from '../../../shared/src/migration/workload/workload-spec.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Steps of the evenly spread values `num` draws. */
const STEPS = 1_000_000;

/**
 * A number in [min, max] (or (min, max] with `minExcluded`): mostly spread evenly, sometimes a double from
 * fast-check's own distribution, which favours the bounds and extreme magnitudes (denormals included).
 */
const num = (min: number, max: number, minExcluded = false): fc.Arbitrary<number> =>
  fc.oneof(
    { arbitrary: fc.integer({ min: minExcluded ? 1 : 0, max: STEPS }).map((k) => min + ((max - min) * k) / STEPS), weight: 3 },
    { arbitrary: fc.double({ min, max, minExcluded, noNaN: true, noDefaultInfinity: true }), weight: 1 },
  );

/** Guest RAM in whole backing pages: 2 MiB to 2 GiB, or 1 to 3 GiB over 1 GiB HugeTLB. Small, so runs are quick. */
function ramArb(backing: BackingSource): fc.Arbitrary<number> {
  return backing === 'anonymous_hugetlb_1gb'
    ? fc.integer({ min: 1, max: 3 }).map((n) => n * GiB)
    : fc.integer({ min: 1, max: 1024 }).map((n) => n * 2 * MiB);
}

/** Dirty rates, bytes per second: none, within what a migration can keep up with, or up to hopeless. */
const rateArb = fc.oneof(fc.constant(0), num(0, 64 * MiB), num(0, 2 * GiB));

/** Bandwidths, bytes per second: QEMU's default range or below, or up to a 32 Gbit/s link. */
const bandwidthArb = fc.oneof(num(1 * MiB, 128 * MiB), num(128 * MiB, 4 * GiB));

/** The share of vCPUs in guest mode, of RAM touched, and the access pattern: defaults or anything. */
const activityArb = fc.record(
  { utilisation: num(0, 1), touched_fraction: fc.oneof(fc.constant(1), num(0, 1)), access: fc.constantFrom(...ACCESS_PATTERNS) },
  { requiredKeys: [] },
);

const kindArb: fc.Arbitrary<MigrationJobInput['vm']['workload']> = fc.oneof(
  fc.constant({ kind: 'idle' as const }),
  fc.record({ kind: fc.constant('uniform' as const), dirty_rate_bytes_per_s: rateArb, working_set: num(0, 1, true), read_share: num(0, 0.99) }),
  fc.record({
    kind: fc.constant('hotcold' as const),
    dirty_rate_bytes_per_s: rateArb,
    hot_fraction: num(0.01, 0.99),
    hot_write_share: num(0, 1),
    read_share: num(0, 0.99),
  }),
  fc.record({ kind: fc.constant('memstress' as const), write_percent: num(0, 100), pass_seconds: num(0.05, 100) }),
);

const workloadArb: fc.Arbitrary<MigrationJobInput['vm']['workload']> = fc.tuple(kindArb, activityArb).map(([w, a]) => ({ ...w, ...a }));

/** A time that is unset two times out of three, sometimes 0, otherwise up to `max` seconds. */
const momentArb = (max: number): fc.Arbitrary<number | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 6 }, { arbitrary: fc.constant(0), weight: 1 }, { arbitrary: num(0, max), weight: 2 });

const jobArb: fc.Arbitrary<MigrationJobInput> = fc.constantFrom(...BACKING_SOURCES).chain((backing) =>
  fc.record({
    kind: fc.constantFrom('migration' as const, 'migration' as const, 'migration' as const, 'dirty-rate-probe' as const),
    model: fc.constantFrom('migsim' as const, 'migsim' as const, 'migsim' as const, 'simgrid' as const),
    vm: fc.record({
      ram_bytes: ramArb(backing),
      vcpus: fc.integer({ min: 1, max: 64 }),
      backing: fc.constant(backing),
      thp_coverage: num(0, 1),
      zero_fraction: fc.oneof(fc.constant(0), fc.constant(1), num(0, 1)),
      workload: workloadArb,
      dirty_ring_size: fc.option(fc.constantFrom(256, 4096, 65536)),
    }),
    migration: fc.record({
      max_bandwidth_bytes_per_s: bandwidthArb,
      link_bandwidth_bytes_per_s: fc.option(bandwidthArb),
      multifd_channels: fc.option(fc.integer({ min: 1, max: 16 })),
      // Not below 50 ms, and a horizon of at most 10 minutes, so that a migration that never converges stays short.
      downtime_limit_s: num(0.05, 5),
      auto_converge: fc.boolean(),
      dirty_limit_bytes_per_s: fc.option(num(1e5, 1e9)),
      cancel_at_s: momentArb(200),
      fail_at_s: momentArb(200),
      postcopy: fc.option(fc.integer({ min: 1, max: 5 }), { freq: 3 }),
      timeout_s: fc.option(num(0, 300, true), { freq: 3 }),
      timeout_action: fc.constantFrom(...TIMEOUT_ACTIONS),
      horizon_s: num(0, 600, true),
    }),
    probe: fc.record({ calc_time_s: num(0, 60, true), mode: fc.constantFrom(...PROBE_MODES) }),
    kernel: fc.record({ release: fc.constantFrom(...COMMON_RELEASES), tdp_mmu: fc.boolean() }).chain(({ release, tdp_mmu }) =>
      fc.record({
        release: fc.constant(release),
        tdp_mmu: fc.constant(tdp_mmu),
        nx_huge_pages: fc.boolean(),
        strategy: fc.constantFrom(...strategiesOfMmu(tdp_mmu)),
        // kvm.eager_page_split exists from 5.18.
        eager_page_split: Number(release.split('.')[0]) >= 6 ? fc.boolean() : fc.constant(false),
        pml: fc.boolean(),
        fast_page_fault: fc.boolean(),
        manual_protect: fc.boolean(),
      }),
    ),
  }),
);

/** Settings QEMU refuses are made consistent: dirty-limit only with the ring and without auto-converge, the probe mode the ring allows. */
const validJobArb = jobArb.map((j): MigrationJobInput => {
  const ring = j.vm.dirty_ring_size !== null;
  const m = j.migration!;
  const dirtyLimit = ring && !m.auto_converge ? m.dirty_limit_bytes_per_s : null;
  const mode = j.probe!.mode === 'dirty-ring' && !ring ? 'dirty-bitmap' : j.probe!.mode === 'dirty-bitmap' && ring ? 'dirty-ring' : j.probe!.mode;
  return { ...j, migration: { ...m, dirty_limit_bytes_per_s: dirtyLimit }, probe: { ...j.probe!, mode } };
});

describe('earliestEndS', () => {
  it('never exceeds the duration runMigrationJob reports, so the fleet never runs past a job before its result', () => {
    fc.assert(
      fc.property(validJobArb, (input) => {
        const job = migrationJobSchema.parse(input);
        const result = runMigrationJob(job, DEFAULT_PROFILE);
        expect(earliestEndS(job)).toBeLessThanOrEqual(result.total_time_s);
      }),
      { numRuns: 200 },
    );
  });
});
