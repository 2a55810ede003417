import type { MigrationJob } from '../job/migration-job.js';

/**
 * vCPUs in guest mode while the VM runs: the VM's vCPUs × the workload's utilisation (the rest are halted). Remote
 * TLB flushes IPI and wait for these only (`kvm_make_all_cpus_request`: `kvm_request_needs_ipi` is true for a vCPU
 * whose mode is not OUTSIDE_GUEST_MODE), so flush costs, vCPU stalls and the disable's races scale with it. An
 * expectation: it need not be whole.
 */
export function runningVcpus(job: MigrationJob): number {
  return job.vm.vcpus * job.vm.workload.utilisation;
}
