import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { runDirtyRateProbe } from '../probe/dirty-rate-probe.js';
import type { MigrationJob } from './migration-job.js';
import type { MigrationResult } from './migration-result.js';
import { runPrecopy } from '../precopy/precopy.js';
import { runSimgridMigration } from '../simgrid/simgrid-model.js';

/** Runs one validated job with the given cost profile (the job names it; the caller resolves it). */
export function runMigrationJob(job: MigrationJob, profile: CostProfile): MigrationResult {
  if (job.model === 'simgrid') return runSimgridMigration(job);
  if (job.kind === 'dirty-rate-probe') return runDirtyRateProbe(job, profile);
  return runPrecopy(job, profile);
}
