import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { hostCpuLedger, jobHostCpu, LEDGER_KEYS, ledgerBinS, ledgerTotals } from '../../../../shared/src/cluster/report/host-cpu-ledger.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { DISABLE_STRATEGIES } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import type { MigrationResult } from '../../../../shared/src/migration/job/migration-result.js';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../../../shared/src/migration/job/run-migration-job.js';
import { HOST_CPU_COMPONENTS, wholeCost } from '../../../../shared/src/migration/job/whole-cost.js';

/** A result with only the strategy-independent host CPU (no MMU blocks: every strategy costs the same). */
function result(cpu: { thread?: number; tracking?: number; split?: number }, status: MigrationResult['status'] = 'completed', job: MigrationResult['job'] = 'migration'): MigrationResult {
  const migration_thread_s = cpu.thread ?? 0;
  const dirty_tracking_s = cpu.tracking ?? 0;
  const enable_split_s = cpu.split ?? 0;
  return {
    job,
    model: 'migsim',
    status,
    error_desc: null,
    total_time_s: 0,
    setup_time_s: 0,
    downtime_s: null,
    expected_downtime_s: 0,
    cpu_throttle_percentage: 0,
    dirty_sync_count: 0,
    rounds: 0,
    ram: { transferred_bytes: 0, remaining_bytes: 0, total_bytes: 0, duplicate_pages: 0, normal_pages: 0, normal_bytes: 0, dirty_pages_rate: 0, dirty_sync_count: 0, page_size_bytes: 4096, mbps: 0 },
    dirty_log_stop: 'never',
    dirty_log_stopped_at_s: null,
    measured_dirty_rate_bytes_per_s: null,
    probe_mode: null,
    postcopy_started_at_s: null,
    postcopy_page_requests: 0,
    strategy_in_effect: 'zap',
    host_cpu: { migration_thread_s, dirty_tracking_s, enable_split_s, total_s: migration_thread_s + dirty_tracking_s + enable_split_s },
    guest_impact: null,
    mmu: null,
  };
}

let serial = 0;
function job(o: { vm?: number; src: number; dst: number | null; startS: number; endS: number; result: MigrationResult }): JobRecord {
  serial++;
  return { id: `j${serial}`, serial, purpose: o.dst === null ? 'probe' : 'maintenance', wave: null, vm: o.vm ?? 0, src: o.src, dst: o.dst, attempt: 1, srcRack: 0, dstRack: o.dst === null ? null : 0, startS: o.startS, endS: o.endS, result: o.result };
}

describe('hostCpuLedger', () => {
  it('one host of 8 cores, guests demanding 7, a migration using 2 cores for 10 s: 10 CPU-s of contention', () => {
    // 7 VMs of 1 vCPU fully busy on host 0; host 1 (the destination) is empty.
    const vms = Array.from({ length: 7 }, () => ({ vcpus: 1, utilisation: 1 }));
    const j = job({ vm: 0, src: 0, dst: 1, startS: 100, endS: 110, result: result({ thread: 12, tracking: 8 }, 'cancelled') });
    const l = hostCpuLedger({ hosts: [{ cores: 8 }, { cores: 8 }], vms, placement: [0, 0, 0, 0, 0, 0, 0], jobs: [j], endS: 200 });
    for (const k of LEDGER_KEYS) {
      expect(l.migration_cpu_s[k].source_s).toBeCloseTo(20, 9);
      // The receive side: as much as the send thread (assumption).
      expect(l.migration_cpu_s[k].destination_s).toBeCloseTo(12, 9);
      expect(l.contention_s[k]).toBeCloseTo(10, 9);
      expect(l.contention_share[k]).toBeCloseTo(10 / 32, 9);
    }
    expect(l.bin_s).toBe(60);
    expect(l.bins).toBe(4);
    // [100, 110) falls in bin 1 (60-120): the source's 20 CPU-s and the destination's 12.
    expect(l.series.migration_cpu_s.in_effect).toEqual([0, 32, 0, 0].map((x) => expect.closeTo(x, 9)));
    expect(l.series.contention_s.in_effect).toEqual([0, 10, 0, 0].map((x) => expect.closeTo(x, 9)));
    expect(l.top_hosts[0]).toMatchObject({ host: 0, cores: 8, initial_guest_demand_cores: 7, peak_guest_demand_cores: 7 });
    expect(l.top_hosts[0]!.contention_s.in_effect).toBeCloseTo(10, 9);
    expect(l.hosts_with_migrations).toBe(2);
    expect(l.hosts_with_contention).toBe(1);
  });

  it('spreads a job over the bins it spans and splits contention where it overlaps another', () => {
    // Host 0: 4 cores, guests 3 (one VM of 4 vCPUs at 75 %). Job A 1 core over [30, 90); job B 2 cores over [60, 120).
    const vms = [{ vcpus: 4, utilisation: 0.75 }];
    const a = job({ src: 0, dst: null, startS: 30, endS: 90, result: result({ thread: 60 }, 'completed', 'dirty-rate-probe') });
    const b = job({ src: 0, dst: null, startS: 60, endS: 120, result: result({ split: 120 }, 'completed', 'dirty-rate-probe') });
    const l = hostCpuLedger({ hosts: [{ cores: 4 }], vms, placement: [0], jobs: [a, b], endS: 120 });
    // Idle 1 core. [30,60): 1 core, no contention; [60,90): 3 cores, 2 over; [90,120): 2 cores, 1 over.
    expect(l.contention_s.in_effect).toBeCloseTo(2 * 30 + 1 * 30, 9);
    expect(l.series.migration_cpu_s.zap).toEqual([30, 150].map((x) => expect.closeTo(x, 9)));
    expect(l.series.contention_s.zap).toEqual([0, 90].map((x) => expect.closeTo(x, 9)));
    expect(l.migration_cpu_s.in_effect.destination_s).toBe(0);
  });

  it('moves a VM to the destination when its migration completes (or keeps the initial placement)', () => {
    // Host 0 and 1: 4 cores. VM 0 (4 vCPUs, busy 100 %) moves 0 → 1 over [0, 10), then VM 1 (1 vCPU) migrates 1 → 0 over [20, 30) at 2 cores.
    const vms = [
      { vcpus: 4, utilisation: 1 },
      { vcpus: 1, utilisation: 0 },
    ];
    const first = job({ vm: 0, src: 0, dst: 1, startS: 0, endS: 10, result: result({}) });
    const second = job({ vm: 1, src: 1, dst: 0, startS: 20, endS: 30, result: result({ split: 20 }) });
    const moved = hostCpuLedger({ hosts: [{ cores: 4 }, { cores: 4 }], vms, placement: [0, 1], jobs: [first, second], endS: 30 });
    // After the move host 1 is full: the source side's 20 CPU-s are all contention.
    expect(moved.contention_s.in_effect).toBeCloseTo(20, 9);
    expect(moved.top_hosts[0]).toMatchObject({ host: 1, initial_guest_demand_cores: 0, peak_guest_demand_cores: 4 });
    const fixed = hostCpuLedger({ hosts: [{ cores: 4 }, { cores: 4 }], vms, placement: [0, 1], jobs: [first, second], endS: 30, applyMoves: false });
    expect(fixed.contention_s.in_effect).toBe(0);
  });

  it('charges each strategy its own MMU work; in effect follows each job’s strategy', () => {
    const vm = { ram_bytes: 4 * 2 ** 30, vcpus: 4, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 40 * 2 ** 20 } };
    const r = runMigrationJob(migrationJobSchema.parse({ vm, migration: { cancel_at_s: 20 }, kernel: { strategy: 'zap-leaf' } }), DEFAULT_PROFILE);
    const j = job({ src: 0, dst: 1, startS: 0, endS: r.total_time_s, result: r });
    const cpu = jobHostCpu(j);
    DISABLE_STRATEGIES.forEach((s, i) => {
      const w = wholeCost(r, s);
      expect(cpu.source[i]).toBeCloseTo(HOST_CPU_COMPONENTS.reduce((a, c) => a + w.host_cpu[c], 0), 12);
      expect(cpu.destination[i]).toBe(r.host_cpu!.migration_thread_s);
    });
    expect(cpu.source[LEDGER_KEYS.indexOf('in_effect')]).toBe(cpu.source[DISABLE_STRATEGIES.indexOf('zap-leaf')]);
    // A host with no spare core: all of it is contention, and zap-leaf's exceeds promote's.
    const l = hostCpuLedger({ hosts: [{ cores: 4 }, { cores: 4 }], vms: [{ vcpus: 4, utilisation: 1 }, { vcpus: 4, utilisation: 1 }], placement: [0, 1], jobs: [j], endS: j.endS });
    for (const k of LEDGER_KEYS) expect(l.contention_s[k]).toBeCloseTo(l.migration_cpu_s[k].total_s, 6);
    expect(l.contention_s['zap-leaf']).toBeGreaterThan(l.contention_s.promote);
  });

  it('keeps runs within 400 bins of a multiple of 60 s', () => {
    expect(ledgerBinS(0)).toBe(60);
    expect(ledgerBinS(24_000)).toBe(60);
    expect(ledgerBinS(24_001)).toBe(120);
    expect(hostCpuLedger({ hosts: [], vms: [], placement: [], jobs: [], endS: 86_400 * 7 }).bins).toBeLessThanOrEqual(400);
  });

  it('summary totals drop the series', () => {
    const l = hostCpuLedger({ hosts: [{ cores: 1 }], vms: [], placement: [], jobs: [], endS: 10 });
    expect(ledgerTotals(l)).not.toHaveProperty('series');
    expect(ledgerTotals(l).contention_s.promote).toBe(0);
  });

  it('property: contention ≤ migration CPU, series sum to the totals, and none when guests and migrations fit', () => {
    const jobArb = fc.record({
      vm: fc.nat({ max: 5 }),
      src: fc.nat({ max: 2 }),
      dst: fc.option(fc.nat({ max: 2 }), { nil: null }),
      startS: fc.integer({ min: 0, max: 500 }),
      len: fc.integer({ min: 0, max: 300 }),
      thread: fc.double({ min: 0, max: 500, noNaN: true }),
      split: fc.double({ min: 0, max: 200, noNaN: true }),
      completed: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.record({ vcpus: fc.integer({ min: 1, max: 8 }), utilisation: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: -1, max: 2 }), { minLength: 6, maxLength: 6 }),
        fc.array(jobArb, { maxLength: 12 }),
        (cores, vms, placement, specs) => {
          const jobs = specs.map((s) =>
            job({ vm: s.vm, src: s.src, dst: s.dst === s.src ? null : s.dst, startS: s.startS, endS: s.startS + s.len, result: result({ thread: s.thread, split: s.split }, s.completed ? 'completed' : 'cancelled', s.dst === null || s.dst === s.src ? 'dirty-rate-probe' : 'migration') }),
          );
          const input = { hosts: cores.map((c) => ({ cores: c })), vms, placement, jobs, endS: 800 };
          const l = hostCpuLedger(input);
          for (const k of LEDGER_KEYS) {
            expect(l.contention_s[k]).toBeLessThanOrEqual(l.migration_cpu_s[k].total_s + 1e-9);
            const zeroLength = jobs.filter((j) => j.endS === j.startS).reduce((a, j) => { const c = jobHostCpu(j); const i = LEDGER_KEYS.indexOf(k); return a + c.source[i]! + (j.dst === null ? 0 : c.destination[i]!); }, 0);
            expect(l.series.migration_cpu_s[k].reduce((a, b) => a + b, 0)).toBeCloseTo(l.migration_cpu_s[k].total_s - zeroLength, 6);
            expect(l.series.contention_s[k].reduce((a, b) => a + b, 0)).toBeCloseTo(l.contention_s[k], 6);
            for (const h of l.top_hosts) expect(h.contention_s[k]).toBeLessThanOrEqual(h.migration_cpu_s[k] + 1e-9);
          }
          // Hosts large enough for every guest and every job at once: no contention.
          const vcpuSum = vms.reduce((a, v) => a + v.vcpus, 0);
          const cpuPeak = jobs.reduce((a, j) => { const c = jobHostCpu(j); const d = Math.max(1, j.endS - j.startS); return a + (c.source[0]! + c.destination[0]!) / d; }, 0);
          const big = hostCpuLedger({ ...input, hosts: cores.map(() => ({ cores: vcpuSum + cpuPeak + 1 })) });
          for (const k of LEDGER_KEYS) expect(big.contention_s[k]).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
