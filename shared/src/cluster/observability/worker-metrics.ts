import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';

/** The worker service's own metrics: what it simulated and how long it took (wall time, not simulated time). */
export class WorkerMetrics {
  readonly jobs: Counter<'result'>;
  readonly jobWall: Histogram;
  readonly busy: Counter;
  readonly concurrency: Gauge;
  readonly active: Gauge;

  constructor(registry: Registry, concurrency: number) {
    const registers = [registry];
    this.jobs = new Counter({ name: 'migsim_worker_jobs_total', help: 'Jobs this worker finished, by result (completed, failed)', labelNames: ['result'], registers });
    this.jobs.inc({ result: 'completed' }, 0);
    this.jobs.inc({ result: 'failed' }, 0);
    this.jobWall = new Histogram({ name: 'migsim_worker_job_wall_seconds', help: 'Wall time to simulate one job', buckets: exponentialBuckets(0.0001, 2, 18), registers });
    this.busy = new Counter({ name: 'migsim_worker_busy_seconds_total', help: 'Wall time spent simulating jobs, summed over concurrent jobs', registers });
    this.concurrency = new Gauge({ name: 'migsim_worker_concurrency', help: 'Jobs this worker may simulate at once', registers });
    this.concurrency.set(concurrency);
    this.active = new Gauge({ name: 'migsim_worker_active_jobs', help: 'Jobs being simulated now', registers });
  }
}
