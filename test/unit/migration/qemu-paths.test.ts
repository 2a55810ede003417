import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';
import { DISABLE_STRATEGIES } from '../../../shared/src/kernel/mmu/disable-strategy.js';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import { migrationResultSchema, type MigrationResult } from '../../../shared/src/migration/job/migration-result.js';
import { runMigrationJob } from '../../../shared/src/migration/job/run-migration-job.js';
import { bqlStallS } from '../../../shared/src/migration/precopy/bql-stall.js';
import type { PassReport } from '../../../shared/src/migration/precopy/pass-report.js';
import { runPrecopy } from '../../../shared/src/migration/precopy/precopy.js';
import { GUEST_IMPACT, MIGRATION_OVERHEADS, QEMU_DEFAULTS, STREAM, SWITCHOVER, WIRE } from '../../../shared/src/migration/precopy/qemu-defaults.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

function run(input: MigrationJobInput, onPass?: (p: PassReport) => void): MigrationResult {
  const job = migrationJobSchema.parse(input);
  const r = job.kind === 'migration' && job.model === 'migsim' ? runPrecopy(job, DEFAULT_PROFILE, onPass) : runMigrationJob(job, DEFAULT_PROFILE);
  return migrationResultSchema.parse(r);
}

/** The switchover's fixed costs for `vcpus` vCPUs (SWITCHOVER), s. */
const switchoverFixedS = (vcpus: number) =>
  SWITCHOVER.vmStopS + SWITCHOVER.vmStopPerVcpuS * vcpus + SWITCHOVER.deviceStateS + SWITCHOVER.deviceStatePerVcpuS * vcpus + SWITCHOVER.returnPathCloseS;

const hotcold = { ram_bytes: 16 * GiB, vcpus: 8, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 40 * MiB } };
/** Writes a tenth of RAM faster than any link here: precopy never converges on its own. */
const hopeless = { ram_bytes: 8 * GiB, vcpus: 8, workload: { kind: 'uniform' as const, dirty_rate_bytes_per_s: 2 * GiB, working_set: 0.1 } };

describe('QEMU switchover (fact sheet Q8)', () => {
  it('stop-and-copy sends the rest unthrottled (migration_completion_precopy: RATE_LIMIT_DISABLED), at the link, not max-bandwidth', () => {
    const link = 1.25e9;
    const r = run({ vm: hotcold, migration: { max_bandwidth_bytes_per_s: 128 * MiB, link_bandwidth_bytes_per_s: link } });
    expect(r.status).toBe('completed');
    // What the last sync left, as QEMU's expected downtime measures it at the precopy bandwidth.
    const remainingBytes = r.expected_downtime_s * 128 * MiB;
    const atLink = (remainingBytes * (WIRE.normalPageBytes / 4096)) / link;
    const atMaxBandwidth = (remainingBytes * (WIRE.normalPageBytes / 4096)) / (128 * MiB);
    expect(r.downtime_s!).toBeGreaterThan(switchoverFixedS(8) + atLink);
    expect(r.downtime_s!).toBeLessThan(switchoverFixedS(8) + atLink + 0.005);
    expect(r.downtime_s!).toBeLessThan(atMaxBandwidth);
  });

  it('a job without a link is given the assumed 10 Gbit/s link (STREAM.assumedLinkBytesPerS)', () => {
    const none = run({ vm: hotcold });
    const tenGbit = run({ vm: hotcold, migration: { link_bandwidth_bytes_per_s: STREAM.assumedLinkBytesPerS } });
    expect(none).toEqual(tenGbit);
  });

  it('the downtime includes vm_stop_force_state, the last-stage bitmap sync, the device state and the return path close', () => {
    const r = run({ vm: { ram_bytes: 4 * GiB, vcpus: 64, workload: { kind: 'idle' } } });
    expect(r.status).toBe('completed');
    // Nothing left to send: the fixed costs and the last GET (and its bitmap copy).
    expect(r.downtime_s!).toBeGreaterThan(switchoverFixedS(64));
    expect(r.downtime_s!).toBeLessThan(switchoverFixedS(64) + 0.001);
  });

  it('multifd spreads the stream over its channels: one core per stream caps a single stream near 10 Gbit/s (multifd-channels)', () => {
    const fast = { max_bandwidth_bytes_per_s: 4e9, link_bandwidth_bytes_per_s: 4e9 };
    const single = run({ vm: { ram_bytes: 16 * GiB, vcpus: 4, workload: { kind: 'idle' } }, migration: fast });
    const multifd = run({ vm: { ram_bytes: 16 * GiB, vcpus: 4, workload: { kind: 'idle' } }, migration: { ...fast, multifd_channels: QEMU_DEFAULTS.multifdChannels } });
    const wire = ((16 * GiB) / 4096) * WIRE.normalPageBytes;
    expect(single.total_time_s).toBeGreaterThan(wire / STREAM.bytesPerCoreS);
    expect(multifd.total_time_s).toBeLessThan(0.51 * single.total_time_s + 0.05);
    // The same bytes cost the same CPU, spread over the channels.
    expect(multifd.host_cpu!.migration_thread_s).toBeCloseTo(single.host_cpu!.migration_thread_s, 6);
    expect(single.host_cpu!.migration_thread_s).toBeCloseTo(single.ram.transferred_bytes / STREAM.bytesPerCoreS, 6);
  });
});

describe('auto-converge and dirty-limit (fact sheet Q9, Q12)', () => {
  it('auto-converge checks at most once per second (migration_bitmap_sync), over the period’s dirty and sent bytes', () => {
    const passes: PassReport[] = [];
    const r = run({ vm: hopeless, migration: { max_bandwidth_bytes_per_s: 1.25e9, link_bandwidth_bytes_per_s: 1.25e9, auto_converge: true, horizon_s: 60 } }, (p) => passes.push(p));
    const short = passes.filter((p) => p.durationS < QEMU_DEFAULTS.throttleCheckPeriodS);
    expect(short.length).toBeGreaterThan(8);
    const steps = passes.filter((p, i) => i > 0 && p.throttlePct !== passes[i - 1]!.throttlePct);
    expect(steps.map((p) => p.throttlePct)).toEqual([20, 30]);
    // A step needs two qualifying checks, each closing a period of more than a second.
    steps.forEach((p, i) => {
      if (i > 0) expect(p.endS - steps[i - 1]!.endS).toBeGreaterThan(2 * QEMU_DEFAULTS.throttleCheckPeriodS);
    });
    // Checked at every sync, two high syncs would step it every other pass.
    expect(steps.length).toBeLessThan(short.length / 4);
    expect(r.guest_impact!.throttling_s).toBeGreaterThan(0);
  });

  it('dirty-limit requires the dirty ring (migrate_caps_check: "dirty-limit requires KVM with accelerator property \'dirty-ring-size\' set")', () => {
    const bad = migrationJobSchema.safeParse({ vm: hopeless, migration: { dirty_limit_bytes_per_s: 1e6 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toContain("dirty-limit requires KVM with accelerator property 'dirty-ring-size' set");
    expect(bad.error!.issues[0]!.path).toEqual(['migration', 'dirty_limit_bytes_per_s']);
  });

  it('dirty-limit conflicts with auto-converge (migrate_caps_check)', () => {
    const bad = migrationJobSchema.safeParse({ vm: { ...hopeless, dirty_ring_size: 4096 }, migration: { dirty_limit_bytes_per_s: 1e6, auto_converge: true } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toContain('dirty-limit conflicts with auto-converge');
  });

  it('the dirty ring turns initially-set off (kvm_init): enabling logging protects and splits everything', () => {
    const bitmap = run({ vm: hotcold, migration: { cancel_at_s: 10 } });
    const ring = run({ vm: { ...hotcold, dirty_ring_size: 4096 }, migration: { cancel_at_s: 10 } });
    expect(ring.mmu!.promote!.enable_s).toBeGreaterThan(100 * bitmap.mmu!.promote!.enable_s);
    // The enable holds the BQL: BQL-bound exits wait.
    expect(ring.guest_impact!.bql_stall_s).toBeGreaterThan(bitmap.guest_impact!.bql_stall_s);
  });
});

describe('cancel, abort and failure: cleanup stops dirty logging inside the job (fact sheet Q10)', () => {
  it('a cancel holds the job until the disable returns (migration_cleanup → memory_global_dirty_log_stop under the BQL)', () => {
    const vm = { ram_bytes: 32 * GiB, vcpus: 32, backing: 'anonymous_hugetlb_2mb' as const, workload: { kind: 'memstress' as const, pass_seconds: 2 } };
    const byStrategy = DISABLE_STRATEGIES.map((strategy) => run({ vm, migration: { cancel_at_s: 100 }, kernel: strategy === 'rmap-zap' ? { tdp_mmu: false } : { strategy } }));
    for (const r of byStrategy) {
      expect(r.status).toBe('cancelled');
      expect(r.dirty_log_stopped_at_s).toBe(100);
      expect(r.total_time_s).toBeCloseTo(100 + r.mmu![r.strategy_in_effect]!.disable_s, 9);
    }
    const leaf = byStrategy[DISABLE_STRATEGIES.indexOf('zap-leaf')]!;
    const promote = byStrategy[DISABLE_STRATEGIES.indexOf('promote')]!;
    expect(leaf.total_time_s).toBeGreaterThan(promote.total_time_s + 10);
    // vCPUs whose next BQL-bound exit falls inside the disable wait for it: longer disables, longer stalls.
    for (const s of DISABLE_STRATEGIES) {
      const b = leaf.mmu![s]!;
      expect(b.guest_impact.bql_stall_s).toBeCloseTo(bqlStallS(b.disable_s, 32), 9);
    }
    expect(leaf.mmu!['zap-leaf']!.guest_impact.bql_stall_s).toBeGreaterThan(leaf.mmu!.promote!.guest_impact.bql_stall_s);
    expect(leaf.mmu!['zap-leaf']!.guest_impact.bql_stall_s).toBeLessThan(32 * leaf.mmu!['zap-leaf']!.disable_s);
  });

  it('the completion timeout aborts as a cancel does, and the job lasts until the disable returns', () => {
    const r = run({ vm: hopeless, migration: { timeout_s: 30 }, kernel: { strategy: 'zap' } });
    expect(r.status).toBe('cancelled');
    expect(r.error_desc).toBe('completion timeout: aborted');
    expect(r.total_time_s).toBeCloseTo(30 + r.mmu!.zap!.disable_s, 9);
  });

  it('a failure during stop-and-copy restarts the source VM first (migration_iteration_finish: vm_start before the cleanup), then stops logging on the running VM', () => {
    const ok = run({ vm: hotcold });
    const failAt = ok.total_time_s - ok.downtime_s! / 2;
    const r = run({ vm: hotcold, migration: { fail_at_s: failAt } });
    expect(r.status).toBe('failed');
    expect(r.dirty_log_stop).toBe('at-restart');
    expect(r.dirty_log_stopped_at_s).toBeCloseTo(failAt + SWITCHOVER.vmStartS, 9);
    expect(r.total_time_s).toBeCloseTo(r.dirty_log_stopped_at_s! + r.mmu!.promote!.disable_s, 9);
    // The guest was down from the stop until the restart.
    expect(r.guest_impact!.downtime_s).toBeGreaterThan(0);
    for (const s of DISABLE_STRATEGIES) expect(r.mmu![s]!.disable_ran).toBe(true);
  });
});

describe('calc-dirty-rate modes (fact sheet Q11)', () => {
  const probe = (mode: 'page-sampling' | 'dirty-bitmap' | 'dirty-ring' | undefined, ring: number | null = null) =>
    run({ kind: 'dirty-rate-probe', vm: { ...hotcold, ram_bytes: 64 * GiB, dirty_ring_size: ring }, probe: { calc_time_s: 2, ...(mode ? { mode } : {}) } });

  it('page-sampling probes never enable dirty logging (calc-dirty-rate default mode)', () => {
    const r = probe(undefined);
    expect(r.probe_mode).toBe('page-sampling');
    expect(r.dirty_log_stop).toBe('never');
    for (const s of DISABLE_STRATEGIES) {
      expect(r.mmu![s]!.enable_s).toBe(0);
      expect(r.mmu![s]!.disable_ran).toBe(false);
      expect(r.mmu![s]!.remote_tlb_flushes).toBe(0);
    }
    const hashS = (QEMU_DEFAULTS.samplePagesPerGiB * 64 * MIGRATION_OVERHEADS.sampleHashNsPerPage) / 1e9;
    expect(r.total_time_s).toBeCloseTo(2 + hashS, 9);
    expect(r.host_cpu!.migration_thread_s).toBeCloseTo(2 * hashS, 9);
    expect(r.host_cpu!.dirty_tracking_s).toBe(0);
    expect(r.measured_dirty_rate_bytes_per_s!).toBeGreaterThan(0.9 * 40 * MiB);
  });

  it('dirty-bitmap probes are a full enable + disable cycle, the job lasting until the disable returns', () => {
    const r = probe('dirty-bitmap');
    expect(r.dirty_log_stop).toBe('at-once');
    expect(r.mmu!.promote!.disable_ran).toBe(true);
    expect(r.total_time_s).toBeCloseTo(r.dirty_log_stopped_at_s! + r.mmu!.promote!.disable_s, 9);
  });

  it('dirty-ring probes need the ring and dirty-bitmap ones refuse it (qmp_calc_dirty_rate)', () => {
    expect(() => probe('dirty-ring')).toThrow(/dirty-ring-size/);
    expect(() => probe('dirty-bitmap', 4096)).toThrow(/dirty-bitmap is not available with the KVM dirty ring/);
    const r = probe('dirty-ring', 4096);
    expect(r.dirty_log_stop).toBe('at-once');
    expect(r.mmu!.zap!.disable_ran).toBe(true);
    expect(r.measured_dirty_rate_bytes_per_s!).toBeGreaterThan(0.9 * 40 * MiB);
  });
});

describe('post-copy and the completion timeout actions (fact sheet Q13)', () => {
  it('post-copy: no disable on the source (the stopped source never runs again), the rest pushed at the link, page faults on the destination', () => {
    const r = run({ vm: hopeless, migration: { postcopy: 1, link_bandwidth_bytes_per_s: 1.25e9, max_bandwidth_bytes_per_s: 1.25e9 } });
    expect(r.status).toBe('completed');
    expect(r.rounds).toBe(1);
    expect(r.postcopy_started_at_s).not.toBeNull();
    expect(r.dirty_log_stop).toBe('never');
    for (const s of DISABLE_STRATEGIES) expect(r.mmu![s]!.disable_ran).toBe(false);
    expect(r.postcopy_page_requests).toBeGreaterThan(0);
    expect(r.guest_impact!.postcopy_faults_s).toBeCloseTo(r.postcopy_page_requests * (GUEST_IMPACT.postcopyPageRequestS + WIRE.normalPageBytes / 1.25e9), 3);
    expect(r.downtime_s!).toBeLessThan(switchoverFixedS(8) + 0.01);
  });

  it('a failure during post-copy loses the VM: failed, no restart, no disable ("if the migration fails during postcopy the VM will fail")', () => {
    const ok = run({ vm: hopeless, migration: { postcopy: 1 } });
    const r = run({ vm: hopeless, migration: { postcopy: 1, fail_at_s: (ok.postcopy_started_at_s! + ok.total_time_s) / 2 } });
    expect(r.status).toBe('failed');
    expect(r.error_desc).toContain('post-copy');
    expect(r.dirty_log_stop).toBe('never');
    for (const s of DISABLE_STRATEGIES) expect(r.mmu![s]!.disable_ran).toBe(false);
  });

  it('a cancel in post-copy is refused (Nova does not abort post-copy migrations)', () => {
    const ok = run({ vm: hopeless, migration: { postcopy: 1 } });
    const r = run({ vm: hopeless, migration: { postcopy: 1, cancel_at_s: (ok.postcopy_started_at_s! + ok.total_time_s) / 2 } });
    expect(r).toEqual(ok);
  });

  it('timeout_action postcopy switches at the completion timeout (Nova force_complete, KubeVirt allowPostCopy)', () => {
    const r = run({ vm: hopeless, migration: { timeout_s: 120, timeout_action: 'postcopy' } });
    expect(r.status).toBe('completed');
    expect(r.postcopy_started_at_s).toBeCloseTo(120, 9);
    expect(r.dirty_log_stop).toBe('never');
  });

  it('timeout_action pause: the VM is paused until the rest is sent, and the downtime grows', () => {
    const r = run({ vm: hopeless, migration: { timeout_s: 120, timeout_action: 'pause' } });
    expect(r.status).toBe('completed');
    expect(r.postcopy_started_at_s).toBeNull();
    expect(r.downtime_s!).toBeCloseTo(r.total_time_s - 120, 9);
    expect(r.guest_impact!.downtime_s).toBeCloseTo(r.downtime_s! * 8, 9);
    expect(r.dirty_log_stop).toBe('never');
  });
});

describe('the whole cost of a migration', () => {
  it('host CPU and guest impact by component, the disable’s share per strategy, totals adding up', () => {
    const r = run({ vm: hotcold, migration: { cancel_at_s: 60, auto_converge: true } });
    const h = r.host_cpu!;
    const g = r.guest_impact!;
    expect(h.total_s).toBeCloseTo(h.migration_thread_s + h.dirty_tracking_s + h.enable_split_s, 9);
    expect(g.total_s).toBeCloseTo(g.downtime_s + g.ept_4k_s + g.throttling_s + g.dirty_tracking_s + g.flush_stalls_s + g.bql_stall_s + g.postcopy_faults_s, 9);
    expect(h.migration_thread_s).toBeGreaterThan(0);
    expect(g.ept_4k_s).toBeGreaterThan(0);
    const independentGuest = g.downtime_s + g.ept_4k_s + g.throttling_s + g.bql_stall_s + g.postcopy_faults_s;
    for (const s of DISABLE_STRATEGIES) {
      const b = r.mmu![s]!;
      // Each strategy's block carries its own MMU's logging work (the shadow MMU's for rmap-zap) and the disable's.
      expect(b.host_cpu.total_s).toBeCloseTo(h.migration_thread_s + b.host_cpu.dirty_tracking_s + b.host_cpu.enable_split_s + b.host_cpu.disable_s, 9);
      const gi = b.guest_impact;
      expect(gi.total_s).toBeCloseTo(independentGuest + gi.dirty_tracking_s + gi.logging_flush_stalls_s + gi.flush_stalls_s + gi.refaults_s + gi.bql_stall_s, 9);
      // The MMU-only host CPU of before is the whole cost less the migration thread.
      expect(b.host_cpu_s).toBeCloseTo(b.host_cpu.dirty_tracking_s + b.host_cpu.enable_split_s + b.host_cpu.disable_s, 9);
      // The TDP MMU's strategies share its logging work, which is what the host (on the TDP MMU) ran.
      if (s !== 'rmap-zap') {
        expect(b.host_cpu.dirty_tracking_s).toBeCloseTo(h.dirty_tracking_s, 9);
        expect(b.host_cpu.enable_split_s).toBeCloseTo(h.enable_split_s, 9);
        expect(b.host_cpu.total_s).toBeCloseTo(h.total_s + b.host_cpu.disable_s, 9);
      }
    }
  });
});
