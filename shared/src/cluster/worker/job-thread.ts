import { parentPort } from 'node:worker_threads';
import { resolveProfile } from '../../kernel/mmu/resolve-profile.js';
import type { MigrationJob } from '../../migration/job/migration-job.js';
import { runMigrationJob } from '../../migration/job/run-migration-job.js';
import type { ThreadJobOutcome } from './job-thread-pool.js';
import { threadReady } from './thread-ready.js';

/** One job: its result as JSON, or why it failed (a job that throws fails alone). */
function simulate(job: MigrationJob): ThreadJobOutcome {
  const t0 = performance.now();
  try {
    return { result: JSON.stringify(runMigrationJob(job, resolveProfile(job.kernel.profile))), wallS: (performance.now() - t0) / 1e3 };
  } catch (e) {
    return { error: (e as Error).message, wallS: (performance.now() - t0) / 1e3 };
  }
}

/**
 * A simulation thread: runs validated jobs posted by the pool, one (`job`) or several in one message (`jobs`: a
 * batch's share, one structured clone and one message each way instead of one per job), and posts their results back
 * as JSON (what the worker stores; serialised here, off the worker's event loop). Posts `threadReady()` once its
 * modules are loaded.
 */
parentPort!.on('message', (msg: { seq: number; job: MigrationJob } | { seq: number; jobs: MigrationJob[] }) => {
  if ('jobs' in msg) {
    parentPort!.postMessage({ seq: msg.seq, outcomes: msg.jobs.map(simulate) });
    return;
  }
  const o = simulate(msg.job);
  parentPort!.postMessage('result' in o ? { seq: msg.seq, result: o.result } : { seq: msg.seq, error: o.error });
});
parentPort!.postMessage(threadReady());
