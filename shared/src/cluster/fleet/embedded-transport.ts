import { runMigrationJob } from '../../migration/job/run-migration-job.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { resolveProfile, type ProfileSpec } from '../../kernel/mmu/resolve-profile.js';
import type { JobEnvelope, JobOutcome, JobTransport } from './job-transport.js';

/** Coordinator and worker in one process: a job is simulated when it is submitted. */
export class EmbeddedTransport implements JobTransport {
  private ready: JobOutcome[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly profileOf: (spec: ProfileSpec) => CostProfile = resolveProfile) {}

  async submit(envelope: JobEnvelope): Promise<void> {
    if (this.seen.has(envelope.id)) return;
    this.seen.add(envelope.id);
    this.ready.push({ id: envelope.id, result: runMigrationJob(envelope.job, this.profileOf(envelope.job.kernel.profile)) });
  }

  async nextResults(): Promise<JobOutcome[]> {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  async close(): Promise<void> {}
}
