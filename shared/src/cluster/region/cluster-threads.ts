import { Worker as Thread } from 'node:worker_threads';
import type { Progress } from '../fleet/progress.js';
import type { ClusterRunResult } from './cluster-run.js';
import type { ClusterThreadMessage, ClusterThreadTask } from './cluster-thread-messages.js';
import { ClusterRunFailed } from './errors/cluster-run-failed.js';

/**
 * Threads that each run one cluster of a region at a time (`cluster-thread.ts`), embedded: a region's clusters
 * share nothing, so N of them run side by side on N cores. A thread is kept between clusters (loading the sources
 * costs about a second of CPU). A cluster that fails, or a thread that dies, rejects that cluster's run with
 * {@link ClusterRunFailed}; the thread is then replaced.
 */
export class ClusterThreads {
  private readonly idle: Thread[] = [];
  private readonly all = new Set<Thread>();
  private closed = false;

  constructor(private readonly script: URL = new URL('./cluster-thread.mjs', import.meta.url)) {}

  /** Runs one cluster on an idle thread (or a new one); `onProgress` gets the cluster's progress as it comes. */
  async run(task: ClusterThreadTask, onProgress?: (p: Progress) => void): Promise<ClusterRunResult> {
    if (this.closed) throw new ClusterRunFailed(task.name, 'the region run was closed');
    const thread = this.idle.pop() ?? this.spawn();
    let healthy = false;
    try {
      const result = await new Promise<ClusterRunResult>((resolve, reject) => {
        const onError = (e: Error): void => reject(new ClusterRunFailed(task.name, `its thread failed: ${e.message}`));
        const onExit = (code: number): void => reject(new ClusterRunFailed(task.name, `its thread exited (code ${code}) before the cluster was done`));
        const onMessage = (m: ClusterThreadMessage): void => {
          if (m.kind === 'progress') {
            onProgress?.(m.progress);
            return;
          }
          thread.off('message', onMessage);
          thread.off('error', onError);
          thread.off('exit', onExit);
          if (m.kind === 'done') {
            healthy = true;
            resolve(m.result);
          } else reject(new ClusterRunFailed(task.name, m.error));
        };
        thread.on('message', onMessage);
        thread.once('error', onError);
        thread.once('exit', onExit);
        thread.postMessage(task);
      });
      return result;
    } finally {
      if (healthy && !this.closed) this.idle.push(thread);
      else {
        this.all.delete(thread);
        await thread.terminate();
      }
    }
  }

  private spawn(): Thread {
    const t = new Thread(this.script);
    this.all.add(t);
    return t;
  }

  /** Stops every thread (running clusters are abandoned); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.idle.length = 0;
    await Promise.all([...this.all].map((t) => t.terminate()));
    this.all.clear();
  }
}
