import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../../shared/src/kernel/mmu/default-profile.js';
import { migrationJobSchema, type MigrationJobInput } from '../../../shared/src/migration/job/migration-job.js';
import { migrationResultSchema, type MigrationResult } from '../../../shared/src/migration/job/migration-result.js';
import { runMigrationJob } from '../../../shared/src/migration/job/run-migration-job.js';
import { pageClasses } from '../../../shared/src/migration/workload/page-classes.js';
import { workloadSpecSchema } from '../../../shared/src/migration/workload/workload-spec.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

function run(input: MigrationJobInput): MigrationResult {
  return migrationResultSchema.parse(runMigrationJob(migrationJobSchema.parse(input), DEFAULT_PROFILE));
}

describe('workload activity: utilisation, touched memory, access pattern', () => {
  it('defaults: idle vCPUs halted, busy ones all in guest mode, all memory touched, memstress sequential', () => {
    expect(workloadSpecSchema.parse({ kind: 'idle' })).toMatchObject({ utilisation: 0, touched_fraction: 1, access: 'random' });
    expect(workloadSpecSchema.parse({ kind: 'uniform', dirty_rate_bytes_per_s: 0 })).toMatchObject({ utilisation: 1, touched_fraction: 1, access: 'random' });
    expect(workloadSpecSchema.parse({ kind: 'memstress' })).toMatchObject({ utilisation: 1, access: 'sequential' });
  });

  it('the touched share fills the working set first (a working set is memory the guest touches)', () => {
    const spec = workloadSpecSchema.parse({ kind: 'uniform', dirty_rate_bytes_per_s: MiB, working_set: 0.25, touched_fraction: 0.5 });
    const classes = pageClasses(spec, 262144, 4);
    expect(classes.map((c) => c.mapped)).toEqual([1, 1 / 3]);
  });

  it('halted vCPUs get a request bit, not an IPI: a VM at 20 % utilisation pays a fraction of the flush cost (kvm_make_all_cpus_request, kvm_request_needs_ipi)', () => {
    const vm = (utilisation: number) => ({ ram_bytes: 16 * GiB, vcpus: 32, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 40 * MiB, utilisation } });
    const full = run({ vm: vm(1), migration: { cancel_at_s: 30 } });
    const fifth = run({ vm: vm(0.2), migration: { cancel_at_s: 30 } });
    // zap flushes once per region it zaps: the disable's flushes IPI and wait for 32 vCPUs, or 6.4 on average.
    const zaps = full.mmu!.zap!.sptes_zapped;
    expect(fifth.mmu!.zap!.sptes_zapped).toBe(zaps);
    const saved = (zaps * (32 - 6.4) * DEFAULT_PROFILE.costs.tlb_flush_per_running_vcpu_ns) / 1e9;
    expect(full.mmu!.zap!.disable_s - fifth.mmu!.zap!.disable_s).toBeCloseTo(saved, 3);
    expect(fifth.mmu!.zap!.vcpu_stall_s).toBeLessThan(full.mmu!.zap!.vcpu_stall_s);
    expect(fifth.mmu!.zap!.remote_tlb_flushes).toBe(full.mmu!.zap!.remote_tlb_flushes);
  });

  it('untouched memory is not mapped: it is sent as zero pages and never split, zapped or promoted (touched_fraction)', () => {
    // Writes to a tenth of RAM faster than the link: never converges; cancelled after the first pass.
    const vm = (touched_fraction: number) => ({
      ram_bytes: 8 * GiB,
      vcpus: 4,
      backing: 'anonymous_hugetlb_2mb' as const,
      workload: { kind: 'uniform' as const, dirty_rate_bytes_per_s: 200 * MiB, working_set: 0.1, touched_fraction },
    });
    const all = run({ vm: vm(1), migration: { cancel_at_s: 100 } });
    const quarter = run({ vm: vm(0.25), migration: { cancel_at_s: 100 } });
    const pages = (8 * GiB) / 4096;
    expect(all.rounds).toBeGreaterThan(1);
    expect(quarter.ram.duplicate_pages).toBe(Math.round(0.75 * pages));
    expect(all.ram.duplicate_pages).toBe(0);
    expect(all.mmu!.promote!.huge_pages_promoted).toBe((8 * GiB) / (2 * MiB));
    expect(quarter.mmu!.promote!.huge_pages_promoted).toBe((2 * GiB) / (2 * MiB));
  });

  it('writes to untouched memory while logging are not-present faults mapping 4K, collapsed at the disable (kvm_mmu_hugepage_adjust: dirty-logged slot)', () => {
    const r = run({
      vm: { ram_bytes: 8 * GiB, vcpus: 4, backing: 'anonymous_hugetlb_2mb', workload: { kind: 'uniform', dirty_rate_bytes_per_s: 200 * MiB, touched_fraction: 0.5 } },
      migration: { cancel_at_s: 20 },
    });
    const b = r.mmu!.promote!;
    expect(b.page_faults_by_kind.not_present).toBeGreaterThan(0);
    // More than the touched half is collapsed: units first mapped while logging are promoted too.
    expect(b.huge_pages_promoted).toBeGreaterThan((4 * GiB) / (2 * MiB));
  });

  it('sequential access clusters dirty pages: fewer bitmap words and chunks to CLEAR than random access', () => {
    const vm = (access: 'random' | 'sequential') => ({ ram_bytes: 16 * GiB, vcpus: 4, workload: { kind: 'memstress' as const, pass_seconds: 40, write_percent: 100, access } });
    const seq = run({ vm: vm('sequential'), migration: { max_bandwidth_bytes_per_s: 1e9 } });
    const rnd = run({ vm: vm('random'), migration: { max_bandwidth_bytes_per_s: 1e9 } });
    expect(seq.status).toBe('completed');
    expect(rnd.status).toBe('completed');
    expect(seq.mmu!.promote!.enable_s).toBe(rnd.mmu!.promote!.enable_s);
    expect(seq.mmu!.promote!.host_cpu_s).toBeLessThan(rnd.mmu!.promote!.host_cpu_s);
  });
});
