import { parentPort } from 'node:worker_threads';
import { resolveProfile } from '../../kernel/mmu/resolve-profile.js';
import type { MigrationJob } from '../../migration/job/migration-job.js';
import { runMigrationJob } from '../../migration/job/run-migration-job.js';
import { threadReady } from './thread-ready.js';

/**
 * A simulation thread: runs validated jobs posted by the pool and posts their results back as JSON (what the worker
 * stores; serialised here, off the worker's event loop). Posts `threadReady()` once its modules are loaded.
 */
parentPort!.on('message', (msg: { seq: number; job: MigrationJob }) => {
  try {
    const result = JSON.stringify(runMigrationJob(msg.job, resolveProfile(msg.job.kernel.profile)));
    parentPort!.postMessage({ seq: msg.seq, result });
  } catch (e) {
    parentPort!.postMessage({ seq: msg.seq, error: (e as Error).message });
  }
});
parentPort!.postMessage(threadReady());
