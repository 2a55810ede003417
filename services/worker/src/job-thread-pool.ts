import { Worker } from 'node:worker_threads';
import type { MigrationJob } from '../../../shared/src/migration/migration-job.js';

interface Pending {
  resolve: (resultJson: string) => void;
  reject: (e: Error) => void;
}

/**
 * Simulation off the event loop: a fixed set of worker threads, jobs handed to the least busy one, so the BullMQ
 * worker keeps renewing its locks while jobs run.
 */
export class JobThreadPool {
  private readonly threads: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./job-thread.mjs', import.meta.url));
      const slot = { worker, busy: 0 };
      worker.on('message', (msg: { seq: number; result?: string; error?: string }) => {
        slot.busy--;
        const p = this.pending.get(msg.seq);
        if (!p) return;
        this.pending.delete(msg.seq);
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.result!);
      });
      worker.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.threads.push(slot);
    }
  }

  /** Simulates a job; resolves with its MigrationResult as JSON. */
  run(job: MigrationJob): Promise<string> {
    if (this.closed) return Promise.reject(new Error('thread pool closed'));
    const slot = this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
    const seq = this.seq++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      slot.worker.postMessage({ seq, job });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
