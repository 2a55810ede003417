import { Gauge, type Registry } from 'prom-client';

/**
 * `migsim_queue_jobs{queue,state}`: BullMQ's job counts, read at scrape time (a collect() callback, not a timer).
 * `counts` returns undefined while there is no queue to read.
 */
export function queueJobsGauge(registry: Registry, queue: string, counts: () => Promise<Record<string, number>> | undefined): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: 'migsim_queue_jobs',
    help: 'Jobs in the BullMQ queue, by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const c = await counts()?.catch(() => undefined);
      if (!c) return;
      for (const [state, n] of Object.entries(c)) this.set({ queue, state }, n);
    },
  });
}
