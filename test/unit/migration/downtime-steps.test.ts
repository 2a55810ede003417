import { describe, expect, it } from 'vitest';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import { migrationResultSchema, type MigrationResult } from '../../../shared/src/migration/job/migration-result.js';
import { downtimeLimitAt } from '../../../shared/src/migration/precopy/downtime-limit-at.js';
import { runPrecopy } from '../../../shared/src/migration/precopy/precopy.js';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

function run(input: MigrationJobInput): MigrationResult {
  return migrationResultSchema.parse(runPrecopy(migrationJobSchema.parse(input), DEFAULT_PROFILE));
}

describe('downtimeLimitAt', () => {
  const m = { downtime_limit_s: 0.3, downtime_steps: [{ after_s: 10, limit_s: 0.05 }, { after_s: 20, limit_s: 0.1 }, { after_s: 20, limit_s: 0.2 }, { after_s: 40, limit_s: 0.5 }] };
  it('is downtime_limit_s before the first step and without steps', () => {
    expect(downtimeLimitAt(m, 0)).toBe(0.3);
    expect(downtimeLimitAt(m, 9.999)).toBe(0.3);
    expect(downtimeLimitAt({ downtime_limit_s: 0.3 }, 1e6)).toBe(0.3);
    expect(downtimeLimitAt({ downtime_limit_s: 0.3, downtime_steps: [] }, 5)).toBe(0.3);
  });
  it('is the last step whose after_s has passed (inclusive; the later of two at the same time)', () => {
    expect(downtimeLimitAt(m, 10)).toBe(0.05);
    expect(downtimeLimitAt(m, 19)).toBe(0.05);
    expect(downtimeLimitAt(m, 20)).toBe(0.2);
    expect(downtimeLimitAt(m, 39.9)).toBe(0.2);
    expect(downtimeLimitAt(m, 1e9)).toBe(0.5);
  });
});

describe('the job schema checks downtime_steps', () => {
  const base = { vm: { ram_bytes: GiB, vcpus: 1, workload: { kind: 'idle' as const } } };
  it('accepts nondecreasing steps and leaves the key out when absent', () => {
    expect(migrationJobSchema.parse(base).migration).not.toHaveProperty('downtime_steps');
    expect(migrationJobSchema.safeParse({ ...base, migration: { downtime_steps: [{ after_s: 0, limit_s: 0.05 }, { after_s: 0, limit_s: 0.1 }] } }).success).toBe(true);
  });
  it('rejects decreasing after_s, a zero limit and more than 64 steps, at the step', () => {
    const bad = (steps: unknown) => migrationJobSchema.safeParse({ ...base, migration: { downtime_steps: steps } });
    const dec = bad([{ after_s: 10, limit_s: 0.1 }, { after_s: 5, limit_s: 0.2 }]);
    expect(dec.success).toBe(false);
    expect(dec.error!.issues[0]!.path).toEqual(['migration', 'downtime_steps', 1, 'after_s']);
    expect(bad([{ after_s: 0, limit_s: 0 }]).error!.issues[0]!.path).toEqual(['migration', 'downtime_steps', 0, 'limit_s']);
    expect(bad(Array.from({ length: 65 }, (_, i) => ({ after_s: i, limit_s: 0.1 }))).success).toBe(false);
    expect(bad(Array.from({ length: 64 }, (_, i) => ({ after_s: i, limit_s: 0.1 }))).success).toBe(true);
  });
});

describe('the convergence test uses the downtime limit in force', () => {
  // 8 GiB, a 1 % working set (≈ 82 MiB) rewritten at 1 GiB/s: every pass of 82 MiB at 128 MiB/s (≈ 0.64 s) ends
  // with the whole working set dirty again, so a pass leaves ≈ 82 MiB to send. QEMU switches over when that is at
  // most bandwidth × limit: 128 MiB/s × 50 ms = 6.4 MiB and × 500 ms = 64 MiB are too little, × 1 s = 128 MiB is
  // enough. The threshold limit is ≈ 82 / 128 = 0.64 s.
  const vm = { ram_bytes: 8 * GiB, vcpus: 4, workload: { kind: 'uniform' as const, dirty_rate_bytes_per_s: GiB, working_set: 0.01 } };
  const migration = { max_bandwidth_bytes_per_s: 128 * MiB, link_bandwidth_bytes_per_s: 1.25e9, downtime_limit_s: 0.05, timeout_s: 600 };

  it('does not converge at 50 ms (nor at 500 ms): the completion timeout aborts it', () => {
    expect(run({ vm, migration }).status).toBe('cancelled');
    expect(run({ vm, migration: { ...migration, downtime_steps: [{ after_s: 0, limit_s: 0.05 }, { after_s: 100, limit_s: 0.5 }] } }).status).toBe('cancelled');
  });

  it('converges once a step raises the limit to 1 s, not before the step', () => {
    const r = run({ vm, migration: { ...migration, downtime_steps: [{ after_s: 0, limit_s: 0.05 }, { after_s: 300, limit_s: 1 }] } });
    expect(r.status).toBe('completed');
    expect(r.total_time_s).toBeGreaterThan(300);
    // The pass after the step: at most one pass (≈ 0.64 s) plus switchover past 300 s.
    expect(r.total_time_s).toBeLessThan(303);
    // Stop-and-copy sends the ≈ 82 MiB left at the link's 1.25 GB/s (the rate limit is lifted): ≈ 69 ms plus the
    // switchover, far more than the 50 ms the first step allowed for.
    expect(r.downtime_s).toBeGreaterThan(0.06);
    expect(r.downtime_s).toBeLessThan(0.2);
  });
});
