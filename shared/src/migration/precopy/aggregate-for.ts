import { AggregateMmu, type AggregateMmuOptions } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { resolveKvmHostMmus } from '../../kernel/host/resolve-kvm-host-mmus.js';
import { kvmHostSpecOf } from '../job/kvm-host-spec-of.js';
import type { MigrationJob } from '../job/migration-job.js';
import { pageClasses } from '../workload/page-classes.js';
import { TARGET_PAGE_SIZE } from './qemu-defaults.js';

/**
 * The VM and its MMU model for one job (a migration or a dirty-rate probe). The KVM dirty ring is modelled with the
 * bitmap's nearest operations: an enable that protects everything (no initially-set) and, at each harvest, a
 * re-protection per dirty page (`AggregateMmu.clearDirtyLog`, standing for KVM_RESET_DIRTY_RINGS); the rings'
 * own costs (a ring entry per write instead of a PML or bitmap update, full-ring exits) are not modelled.
 */
export function aggregateFor(job: MigrationJob, profile: CostProfile, options: AggregateMmuOptions = {}): { mmu: AggregateMmu; classes: PageClass[]; pages: number } {
  const pages = job.vm.ram_bytes / TARGET_PAGE_SIZE;
  const classes = pageClasses(job.vm.workload, pages, job.vm.vcpus);
  const mmu = new AggregateMmu({
    pages,
    vcpus: job.vm.vcpus,
    backing: job.vm.backing,
    thpCoverage: job.vm.thp_coverage,
    // With the dirty ring QEMU turns manual-protect / initially-set off (`kvm_init`: "initially-set with the ring
    // causes data corruption"): enabling logging then protects everything.
    manualProtect: job.kernel.manual_protect && job.vm.dirty_ring_size === null,
    kernel: resolveKvmHostMmus(kvmHostSpecOf(job.kernel)),
    profile,
    bailouts: job.bailouts,
    classes,
  }, options);
  return { mmu, classes, pages };
}
