import type { MigrationJob } from '../job/migration-job.js';

/**
 * The downtime limit in force `nowS` after the migration started: the last of the job's `downtime_steps` with
 * `after_s` ≤ `nowS` (Nova raises QEMU's downtime-limit step by step), else `downtime_limit_s`.
 */
export function downtimeLimitAt(m: Pick<MigrationJob['migration'], 'downtime_limit_s' | 'downtime_steps'>, nowS: number): number {
  let limit = m.downtime_limit_s;
  for (const step of m.downtime_steps ?? []) {
    if (step.after_s > nowS) break;
    limit = step.limit_s;
  }
  return limit;
}
