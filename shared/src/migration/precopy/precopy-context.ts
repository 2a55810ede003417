import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import { totalWriteRate, type PageClass } from '../../kernel/mmu-aggregate/page-class.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../job/migration-job.js';
import { aggregateFor } from './aggregate-for.js';
import { LoggingCosts } from './logging-costs.js';
import type { PassReport } from './pass-report.js';
import { TARGET_PAGE_SIZE } from './qemu-defaults.js';
import { runningVcpus } from './running-vcpus.js';
import { precopyBandwidth, unthrottledBandwidth } from './send-bandwidth.js';
import { touchShares } from './share-4k.js';

/** Options of a precopy run. */
export interface PrecopyOptions {
  /**
   * Evaluate every disable strategy, as the job's result reports them (default true). Off, only the host's
   * strategy in effect is evaluated (the MMU the host does not run is not kept): the result's timeline (status,
   * times, transfers), its strategy-independent costs and the disable time in effect are the same to the bit, and
   * its `mmu` is null. The coordinator runs migrations so: a worker's replay reports the MMU blocks.
   */
  readonly counterfactuals?: boolean;
}

/** What a precopy migration knows from its start and never changes: the job, the VM's MMU model, the bandwidths. */
export interface PrecopyContext {
  readonly job: MigrationJob;
  readonly mmu: AggregateMmu;
  /** The MMU operations with their cost attributed to the whole cost's components. */
  readonly costs: LoggingCosts;
  readonly classes: readonly PageClass[];
  /** Guest RAM in 4 KiB pages. */
  readonly pages: number;
  /** What precopy sends at, bytes per second (`precopyBandwidth`). */
  readonly bandwidth: number;
  /** What stop-and-copy and post-copy send at, the rate limit lifted (`unthrottledBandwidth`). */
  readonly unthrottled: number;
  /** vCPUs in guest mode while the VM runs (`runningVcpus`). */
  readonly running: number;
  /** The guest's page writes, bytes per second, unthrottled. */
  readonly writeBytesPerS: number;
  /** Per class: its share of the guest's page touches (of its pages when nothing is touched), for the 4K-EPT slowdown. */
  readonly touchShares: readonly number[];
  /** Every disable strategy is evaluated (`PrecopyOptions`). */
  readonly counterfactuals: boolean;
  /** Called at the bitmap sync after each complete pass. */
  readonly onPass: ((p: PassReport) => void) | undefined;
}

/** The context of one job's precopy, with a fresh MMU model. */
export function precopyContext(job: MigrationJob, profile: CostProfile, onPass: ((p: PassReport) => void) | undefined, options: PrecopyOptions = {}): PrecopyContext {
  const counterfactuals = options.counterfactuals !== false;
  const { mmu, classes, pages } = aggregateFor(job, profile, { counterfactuals });
  return {
    job,
    mmu,
    costs: new LoggingCosts(mmu),
    classes,
    pages,
    bandwidth: precopyBandwidth(job.migration),
    unthrottled: unthrottledBandwidth(job.migration),
    running: runningVcpus(job),
    writeBytesPerS: totalWriteRate(classes) * TARGET_PAGE_SIZE,
    touchShares: touchShares(classes),
    counterfactuals,
    onPass,
  };
}
