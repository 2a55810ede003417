import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import { migrationResultSchema, type MigrationResult } from '../../../shared/src/migration/job/migration-result.js';
import type { PassReport } from '../../../shared/src/migration/precopy/pass-report.js';
import { runPrecopy } from '../../../shared/src/migration/precopy/precopy.js';
import { QEMU_DEFAULTS, SWITCHOVER, WIRE } from '../../../shared/src/migration/precopy/qemu-defaults.js';
import { runMigrationJob } from '../../../shared/src/migration/job/run-migration-job.js';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';
import { DISABLE_STRATEGIES } from '../../../shared/src/kernel/mmu/disable-strategy.js';
import { resolveKvmHost } from '../../../shared/src/kernel/host/resolve-kvm-host.js';
import { kvmHostSpecOf } from '../../../shared/src/migration/job/kvm-host-spec-of.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

function run(input: MigrationJobInput, onPass?: (p: PassReport) => void): MigrationResult {
  const job = migrationJobSchema.parse(input);
  const r = job.kind === 'migration' && job.model === 'migsim' ? runPrecopy(job, DEFAULT_PROFILE, onPass) : runMigrationJob(job, DEFAULT_PROFILE);
  return migrationResultSchema.parse(r);
}

describe('QEMU defaults', () => {
  it('a job with no migration parameters gets QEMU 9.x defaults', () => {
    const job = migrationJobSchema.parse({ vm: { ram_bytes: GiB, vcpus: 1, workload: { kind: 'idle' } } });
    expect(job.migration.max_bandwidth_bytes_per_s).toBe(128 * MiB);
    expect(job.migration.downtime_limit_s).toBe(0.3);
    expect(job.migration.auto_converge).toBe(false);
    expect(job.kernel.manual_protect).toBe(true);
    expect(resolveKvmHost(kvmHostSpecOf(job.kernel)).eagerPageSplit).toBe(true);
    expect(QEMU_DEFAULTS.cpuThrottleInitialPct).toBe(20);
    expect(QEMU_DEFAULTS.cpuThrottleIncrementPct).toBe(10);
    expect(QEMU_DEFAULTS.maxCpuThrottlePct).toBe(99);
    expect(QEMU_DEFAULTS.throttleTriggerThresholdPct).toBe(50);
  });
});

describe('closed forms', () => {
  it('without dirtying: one pass, total time ≈ RAM / bandwidth', () => {
    for (const bw of [128 * MiB, 1.25e9]) {
      const r = run({ vm: { ram_bytes: 16 * GiB, vcpus: 4, workload: { kind: 'idle' } }, migration: { max_bandwidth_bytes_per_s: bw } });
      expect(r.status).toBe('completed');
      expect(r.rounds).toBe(1);
      const wire = ((16 * GiB) / 4096) * WIRE.normalPageBytes;
      expect(r.total_time_s / (wire / bw)).toBeGreaterThan(1);
      // Plus setup, switchover and the CLEARs (which split every huge page) on the migration thread.
      expect(r.total_time_s / (wire / bw)).toBeLessThan(1.03);
      expect(r.ram.transferred_bytes).toBeCloseTo(wire, -3);
    }
  });

  it('zero pages cost almost nothing', () => {
    const full = run({ vm: { ram_bytes: 8 * GiB, vcpus: 2, workload: { kind: 'idle' } } });
    const mostlyZero = run({ vm: { ram_bytes: 8 * GiB, vcpus: 2, zero_fraction: 0.9, workload: { kind: 'idle' } } });
    expect(mostlyZero.total_time_s / full.total_time_s).toBeLessThan(0.11);
    expect(mostlyZero.ram.duplicate_pages).toBe(Math.round(0.9 * ((8 * GiB) / 4096)));
  });

  it('dirtying at or above the bandwidth never converges; the completion timeout aborts and logging stops on the live VM', () => {
    const vm = { ram_bytes: 8 * GiB, vcpus: 4, workload: { kind: 'uniform' as const, dirty_rate_bytes_per_s: 200 * MiB, working_set: 1 } };
    const open = run({ vm, migration: { horizon_s: 3600 } });
    expect(open.status).toBe('active');
    expect(open.dirty_log_stop).toBe('never');
    const aborted = run({ vm, migration: { timeout_s: 600 } });
    expect(aborted.status).toBe('cancelled');
    expect(aborted.dirty_log_stopped_at_s).toBeCloseTo(600, 6);
    expect(aborted.total_time_s).toBeCloseTo(600 + aborted.mmu!.promote!.disable_s, 6);
    expect(aborted.dirty_log_stop).toBe('at-once');
    for (const s of DISABLE_STRATEGIES) {
      expect(aborted.mmu![s]!.disable_ran).toBe(true);
      expect(aborted.mmu![s]!.disable_s).toBeGreaterThan(0);
    }
  });

  it('switches over at the first sync with remaining ≤ bandwidth × downtime-limit, not before', () => {
    const passes: PassReport[] = [];
    const bw = 128 * MiB;
    const input = { vm: { ram_bytes: 8 * GiB, vcpus: 4, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 40 * MiB } } };
    const r = run(input, (p) => passes.push(p));
    expect(r.status).toBe('completed');
    const threshold = bw * 0.3;
    passes.slice(0, -1).forEach((p) => expect(p.dirtyPages * 4096).toBeGreaterThan(threshold));
    expect(passes.at(-1)!.dirtyPages * 4096).toBeLessThanOrEqual(threshold);
    expect(r.expected_downtime_s).toBeLessThanOrEqual(0.3);
    // Downtime: the rest of RAM at the link's bandwidth plus the switchover's fixed costs.
    expect(r.downtime_s!).toBeGreaterThan(SWITCHOVER.vmStopS + SWITCHOVER.deviceStateS + SWITCHOVER.returnPathCloseS);
    // A tighter limit needs more passes.
    const tighter = run({ ...input, migration: { downtime_limit_s: r.expected_downtime_s * 0.5 } });
    expect(tighter.rounds).toBeGreaterThan(r.rounds);
  });

  it('auto-converge throttles 20 % after two high syncs, then +10 % every two, up to 99 %', () => {
    const passes: PassReport[] = [];
    const r = run(
      { vm: { ram_bytes: 8 * GiB, vcpus: 4, workload: { kind: 'uniform', dirty_rate_bytes_per_s: 1 * GiB, working_set: 1 } }, migration: { auto_converge: true } },
      (p) => passes.push(p),
    );
    const steps = passes.map((p) => p.throttlePct);
    const distinct = [...new Set(steps)].filter((t) => t > 0);
    expect(distinct[0]).toBe(20);
    for (let i = 1; i < distinct.length; i++) expect(distinct[i]).toBe(Math.min(99, distinct[i - 1]! + 10));
    expect(steps.indexOf(20)).toBe(1); // the second high sync
    for (let i = 1; i < steps.length; i++) expect(steps[i]!).toBeGreaterThanOrEqual(steps[i - 1]!);
    expect(r.status).toBe('completed');
    expect(r.cpu_throttle_percentage).toBe(steps.at(-1)!);
  });

  it('dirty-limit caps each vCPU once triggered and lets a hopeless migration converge', () => {
    const vm = { ram_bytes: 8 * GiB, vcpus: 8, dirty_ring_size: 4096, workload: { kind: 'uniform' as const, dirty_rate_bytes_per_s: 300 * MiB, working_set: 1 } };
    expect(run({ vm, migration: { horizon_s: 3600 } }).status).toBe('active');
    expect(run({ vm, migration: { dirty_limit_bytes_per_s: 1e6 } }).status).toBe('completed');
  });
});

describe('when dirty logging is turned off on the source', () => {
  const vm = { ram_bytes: 8 * GiB, vcpus: 4, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 40 * MiB } };

  it('a completed migration never runs the disable (the postponed stop never fires)', () => {
    const r = run({ vm });
    expect(r.status).toBe('completed');
    expect(r.dirty_log_stop).toBe('never');
    for (const s of DISABLE_STRATEGIES) {
      expect(r.mmu![s]!.disable_ran).toBe(false);
      expect(r.mmu![s]!.disable_s).toBe(0);
      expect(r.mmu![s]!.page_faults_by_kind.refault).toBe(0);
    }
  });

  it('a cancelled one runs it at once on the running VM', () => {
    const r = run({ vm, migration: { cancel_at_s: 30 } });
    expect(r.status).toBe('cancelled');
    expect(r.dirty_log_stop).toBe('at-once');
    expect(r.dirty_log_stopped_at_s).toBeCloseTo(30, 6);
    for (const s of DISABLE_STRATEGIES) expect(r.mmu![s]!.disable_ran).toBe(true);
  });

  it('a destination failure before stop-and-copy disables at once; during it, when the source VM restarts', () => {
    expect(run({ vm, migration: { fail_at_s: 10 } }).dirty_log_stop).toBe('at-once');
    const ok = run({ vm });
    const during = ok.total_time_s - ok.downtime_s! / 2;
    const r = run({ vm, migration: { fail_at_s: during } });
    expect(r.status).toBe('failed');
    expect(r.dirty_log_stop).toBe('at-restart');
    expect(r.downtime_s).toBeNull();
    for (const s of DISABLE_STRATEGIES) expect(r.mmu![s]!.disable_ran).toBe(true);
  });

  it('a dirty-rate probe in dirty-bitmap mode is a full enable + disable cycle on the live VM and measures the rate', () => {
    const r = run({ kind: 'dirty-rate-probe', vm: { ...vm, ram_bytes: 64 * GiB }, probe: { calc_time_s: 1, mode: 'dirty-bitmap' } });
    expect(r.dirty_log_stop).toBe('at-once');
    expect(r.measured_dirty_rate_bytes_per_s!).toBeGreaterThan(0.9 * 40 * MiB);
    expect(r.measured_dirty_rate_bytes_per_s!).toBeLessThanOrEqual(40 * MiB);
    expect(r.mmu!.promote!.disable_ran).toBe(true);
    expect(r.mmu!.promote!.huge_pages_promoted).toBe((64 * GiB) / (2 * MiB));
  });
});

describe('paired strategies', () => {
  const jobArb = fc.record({
    ram: fc.integer({ min: 1, max: 64 }),
    vcpus: fc.integer({ min: 1, max: 64 }),
    backing: fc.constantFrom('anonymous_thp' as const, 'anonymous_hugetlb_2mb' as const, 'anonymous_hugetlb_1gb' as const, 'anonymous' as const),
    kind: fc.constantFrom('uniform' as const, 'hotcold' as const),
    rateMiB: fc.integer({ min: 0, max: 400 }),
    cancelAt: fc.double({ min: 1, max: 300, noNaN: true }),
    eager: fc.boolean(),
    pml: fc.boolean(),
    notifier: fc.constantFrom(0, 0.1, 0.5),
  });
  it('promote never produces more refault stalls than zap on the same job', () => {
    fc.assert(
      fc.property(jobArb, (j) => {
        const r = run({
          vm: { ram_bytes: j.ram * GiB, vcpus: j.vcpus, backing: j.backing, workload: { kind: j.kind, dirty_rate_bytes_per_s: j.rateMiB * MiB } },
          migration: { cancel_at_s: j.cancelAt },
          kernel: { eager_page_split: j.eager, pml: j.pml },
          bailouts: { mmu_notifier_in_progress: j.notifier },
        });
        const p = r.mmu!.promote!;
        for (const s of ['zap', 'zap-batched', 'zap-leaf'] as const) {
          const z = r.mmu![s]!;
          expect(p.page_faults_by_kind.refault!).toBeLessThanOrEqual(z.page_faults_by_kind.refault!);
          expect(p.vcpu_stall_s).toBeLessThanOrEqual(z.vcpu_stall_s + 1e-12);
          // Same walk and teardown as the non-leaf zaps; zap-leaf can be cheaper on sparse lazily split tables.
          if (s !== 'zap-leaf') expect(p.disable_s).toBeLessThanOrEqual(z.disable_s + 1e-12);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('determinism', () => {
  it('the same job and seed give the same record', () => {
    const input = { seed: 42, vm: { ram_bytes: 32 * GiB, vcpus: 8, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 60 * MiB } }, migration: { auto_converge: true } };
    expect(JSON.stringify(run(input))).toBe(JSON.stringify(run(input)));
  });
});

describe('the SimGrid model on the same inputs', () => {
  it('without dirtying takes RAM / bandwidth and has no MMU block; with dirtying it converges to 30 ms', () => {
    const idle = run({ model: 'simgrid', vm: { ram_bytes: 8 * GiB, vcpus: 2, workload: { kind: 'idle' } } });
    expect(idle.total_time_s).toBeCloseTo((8 * GiB) / (128 * MiB), 9);
    expect(idle.mmu).toBeNull();
    const busy = run({ model: 'simgrid', vm: { ram_bytes: 8 * GiB, vcpus: 2, workload: { kind: 'uniform', dirty_rate_bytes_per_s: 40 * MiB } } });
    expect(busy.status).toBe('completed');
    expect(busy.downtime_s!).toBeLessThanOrEqual(0.03);
    // Dirtying never exceeds the 90 % working-set cap, so a hopeless rate loops until the budget.
    const hopeless = run({ model: 'simgrid', vm: { ram_bytes: 8 * GiB, vcpus: 2, workload: { kind: 'uniform', dirty_rate_bytes_per_s: 400 * MiB } }, migration: { timeout_s: 1000 } });
    expect(hopeless.status).toBe('cancelled');
  });
});
