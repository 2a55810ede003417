import type { MigrationJob } from '../../migration/job/migration-job.js';

/**
 * Migration attempts per VM: the attempt number goes into each job's key and record, and a maintenance wave gives
 * up on a VM once its attempts reach `max_attempts`. A wave starts its VMs' count afresh.
 */
export class MigrationAttempts {
  private readonly counts = new Map<number, number>();

  /**
   * The attempt number of a job about to start for VM `vmId`: a migration is a new attempt and is counted; a probe
   * carries the number the next migration would have, without counting.
   */
  next(vmId: number, kind: MigrationJob['kind']): number {
    const attempt = this.count(vmId) + 1;
    if (kind === 'migration') this.counts.set(vmId, attempt);
    return attempt;
  }

  /** Migrations of VM `vmId` started so far (since its wave began). */
  count(vmId: number): number {
    return this.counts.get(vmId) ?? 0;
  }

  /** Starts the VM's count afresh. */
  reset(vmId: number): void {
    this.counts.set(vmId, 0);
  }
}
