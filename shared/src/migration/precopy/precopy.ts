import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';
import type { PassReport } from './pass-report.js';
import { PrecopyRun } from './precopy-run.js';
import { RateHistory } from './rate-history.js';
import { precopyBandwidth, unthrottledBandwidth } from './send-bandwidth.js';
import { constantWire, historyWire, type Wire } from './wire.js';

/**
 * The link a job sends on: the rates the fabric gave its flow when the job carries them (`rate_history`, written by
 * the coordinator), or a link of its own at precopy's and the unthrottled bandwidth.
 */
export function wireOf(job: MigrationJob): Wire {
  const m = job.migration;
  if (m.rate_history !== null) return historyWire(RateHistory.fromFlat(m.rate_history));
  return constantWire(precopyBandwidth(m), unthrottledBandwidth(m));
}

/** A QEMU live migration of one VM, run to its end (see {@link PrecopyRun}). */
export function runPrecopy(job: MigrationJob, profile: CostProfile, onPass?: (p: PassReport) => void): MigrationResult {
  return new PrecopyRun(job, profile, wireOf(job), onPass).runToEnd();
}
