import { Worker } from 'node:worker_threads';
import type { MigrationJob } from '../../migration/job/migration-job.js';
import { isThreadReady } from './thread-ready.js';
import { WORKER_DEFAULTS } from './worker-options.js';

/** What a simulation thread answers for one job of a `runMany`: its result as JSON or why it failed, and its wall. */
export type ThreadJobOutcome = { readonly result: string; readonly wallS: number } | { readonly error: string; readonly wallS: number };

interface Pending {
  resolve: (answer: string | readonly ThreadJobOutcome[]) => void;
  reject: (e: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Jobs posted to this thread and not answered yet, by sequence number. */
  readonly pending: Map<number, Pending>;
  /** Why the thread stopped, when it failed ('error' comes before 'exit'). */
  failure?: Error;
  /** Settles when the thread has loaded its modules (its `threadReady()` message), or rejects if it exits first. */
  readonly loaded: Promise<void>;
  /** The thread's OS thread id, from its ready message (Linux). */
  tid?: number | undefined;
}

export interface JobThreadPoolOptions {
  /** The thread's script; tests pass their own. */
  readonly script?: URL;
  /**
   * V8 heap limit of each thread in MiB: a job that needs more fails alone instead of aborting the process.
   * @defaultValue WORKER_DEFAULTS.threadMaxHeapMb (1024)
   */
  readonly maxHeapMb?: number;
}

/**
 * Simulation off the event loop: a fixed set of worker threads, jobs handed to the least busy one, so the BullMQ
 * worker keeps renewing its locks while jobs run. A thread that dies (an uncaught error, its heap limit, an exit)
 * fails only the jobs it held, with the reason, and is replaced; the other threads' jobs go on.
 */
export class JobThreadPool {
  private readonly threads: Thread[] = [];
  private seq = 0;
  private closed = false;
  private readonly script: URL;
  private readonly maxHeapMb: number;
  /** Threads replaced after dying, for logs and tests. */
  replaced = 0;

  constructor(size: number, opts: JobThreadPoolOptions = {}) {
    this.script = opts.script ?? new URL('./job-thread.mjs', import.meta.url);
    this.maxHeapMb = opts.maxHeapMb ?? WORKER_DEFAULTS.threadMaxHeapMb;
    for (let i = 0; i < size; i++) this.threads.push(this.spawn(i));
  }

  private spawn(index: number): Thread {
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    let loaded!: () => void;
    let notLoaded!: (e: Error) => void;
    const thread: Thread = {
      worker,
      pending: new Map(),
      loaded: new Promise<void>((resolve, reject) => {
        loaded = resolve;
        notLoaded = reject;
      }),
    };
    // Only start() awaits it; a replacement thread's failure to load is reported through its jobs.
    thread.loaded.catch(() => {});
    worker.on('message', (msg: { seq: number; result?: string; error?: string; outcomes?: ThreadJobOutcome[] }) => {
      if (isThreadReady(msg)) {
        thread.tid = msg.tid;
        loaded();
        return;
      }
      const p = thread.pending.get(msg.seq);
      if (!p) return;
      thread.pending.delete(msg.seq);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.outcomes ?? msg.result!);
    });
    worker.on('error', (e) => {
      thread.failure = e;
    });
    worker.on('exit', (code) => {
      const reason = this.closed
        ? new Error('thread pool closed')
        : new Error(`simulation thread died (${thread.failure ? thread.failure.message : `exit code ${code}`}); its jobs failed and the thread was replaced`);
      notLoaded(new Error(`simulation thread exited before it was ready (${thread.failure ? thread.failure.message : `exit code ${code}`})`));
      for (const p of thread.pending.values()) p.reject(reason);
      thread.pending.clear();
      if (!this.closed && this.threads[index] === thread) {
        this.threads[index] = this.spawn(index);
        this.replaced++;
      }
    });
    return thread;
  }

  /**
   * Resolves once every thread has loaded its modules (each posts `threadReady()`), so a worker that starts serving
   * after it has paid its start-up; rejects if a thread exits before it is ready. Threads whose script never posts
   * it (test stand-ins) are not waited for by anyone but the caller of this.
   */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.loaded));
  }

  /** The threads' OS thread ids (from their ready messages; undefined off Linux or before ready). */
  get threadIds(): (number | undefined)[] {
    return this.threads.map((t) => t.tid);
  }

  /** Simulates a job; resolves with its MigrationResult as JSON. */
  run(job: MigrationJob): Promise<string> {
    return this.post({ job }) as Promise<string>;
  }

  /**
   * Simulates several jobs (a batch's): split into one share per thread, each share sent in one message, so a batch
   * costs a message per thread instead of one per job. Resolves with each job's outcome in order: a job that throws
   * fails alone, and the jobs of a share whose thread died fail with the reason (the other shares' results stand).
   */
  async runMany(jobs: readonly MigrationJob[]): Promise<ThreadJobOutcome[]> {
    if (jobs.length === 0) return [];
    const shares = Math.min(this.threads.length, jobs.length);
    const size = Math.ceil(jobs.length / shares);
    const parts: { n: number; answer: Promise<string | readonly ThreadJobOutcome[]> }[] = [];
    for (let i = 0; i < jobs.length; i += size) {
      const share = jobs.slice(i, i + size);
      parts.push({ n: share.length, answer: this.post({ jobs: share }) });
    }
    const settled = await Promise.allSettled(parts.map((p) => p.answer));
    return settled.flatMap((r, k): ThreadJobOutcome[] =>
      r.status === 'fulfilled' ? [...(r.value as readonly ThreadJobOutcome[])] : Array.from({ length: parts[k]!.n }, () => ({ error: (r.reason as Error).message, wallS: 0 })),
    );
  }

  /** Posts a message to the least busy thread; resolves with its answer. */
  private post(body: { job: MigrationJob } | { jobs: readonly MigrationJob[] }): Promise<string | readonly ThreadJobOutcome[]> {
    if (this.closed) return Promise.reject(new Error('thread pool closed'));
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      thread.pending.set(seq, { resolve, reject });
      thread.worker.postMessage({ seq, ...body });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
