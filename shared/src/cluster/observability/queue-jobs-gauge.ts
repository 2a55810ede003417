import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/**
 * `migsim_queue_jobs{queue,state}`: BullMQ's job counts, read at scrape time (a collect() callback, not a timer).
 * `queue` returns undefined while there is no queue to read.
 */
export function queueJobsGauge(registry: Registry, queue: () => Queue | undefined): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: 'migsim_queue_jobs',
    help: 'Jobs in the BullMQ queue, by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const q = queue();
      const c = await q?.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed').catch(() => undefined);
      if (!q || !c) return;
      for (const [state, n] of Object.entries(c)) this.set({ queue: q.name, state }, n);
    },
  });
}
