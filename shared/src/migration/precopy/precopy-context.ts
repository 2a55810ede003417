import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import { totalWriteRate, type PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../job/migration-job.js';
import { aggregateFor } from './aggregate-for.js';
import { precopyBandwidth } from './earliest-end.js';
import type { PassReport } from './pass-report.js';
import { TARGET_PAGE_SIZE } from './qemu-defaults.js';
import { runningVcpus } from './running-vcpus.js';

/** What a precopy migration knows from its start and never changes: the job, the VM's MMU model, the bandwidth. */
export interface PrecopyContext {
  readonly job: MigrationJob;
  readonly mmu: AggregateMmu;
  readonly classes: readonly PageClass[];
  /** Guest RAM in 4 KiB pages. */
  readonly pages: number;
  /** What the migration sends at, bytes per second (`precopyBandwidth`). */
  readonly bandwidth: number;
  /** vCPUs in guest mode while the VM runs. */
  readonly running: number;
  /** The guest's page writes, bytes per second, unthrottled. */
  readonly writeBytesPerS: number;
  /** Called at the bitmap sync after each complete pass. */
  readonly onPass: ((p: PassReport) => void) | undefined;
}

/** The context of one job's precopy, with a fresh MMU model. */
export function precopyContext(job: MigrationJob, profile: CostProfile, onPass: ((p: PassReport) => void) | undefined): PrecopyContext {
  const { mmu, classes, pages } = aggregateFor(job, profile);
  return {
    job,
    mmu,
    classes,
    pages,
    bandwidth: precopyBandwidth(job),
    running: runningVcpus(job),
    writeBytesPerS: totalWriteRate(classes) * TARGET_PAGE_SIZE,
    onPass,
  };
}
