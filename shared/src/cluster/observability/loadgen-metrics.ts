import { Counter, Histogram, exponentialBuckets, type Registry } from 'prom-client';

/** The load generator's own metrics: runs it submitted and how long each job took from queue to result. */
export class LoadgenMetrics {
  readonly runs: Counter<'state'>;
  readonly jobLatency: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.runs = new Counter({ name: 'migsim_loadgen_runs_total', help: 'Runs the load generator submitted, by state (submitted, finished, failed)', labelNames: ['state'], registers });
    for (const state of ['submitted', 'finished', 'failed']) this.runs.inc({ state }, 0);
    this.jobLatency = new Histogram({ name: 'migsim_loadgen_job_latency_seconds', help: 'Wall time from queueing a job to reading its result', buckets: exponentialBuckets(0.001, 2, 18), registers });
  }
}
