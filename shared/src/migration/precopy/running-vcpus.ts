import { totalWriteRate, type PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { MigrationJob } from '../job/migration-job.js';

/** vCPUs in guest mode while the VM runs: an idle guest's vCPUs are halted. */
export function runningVcpus(job: MigrationJob, classes: readonly PageClass[]): number {
  return totalWriteRate(classes) > 0 || classes.some((c) => c.readRate > 0) ? job.vm.vcpus : 0;
}
