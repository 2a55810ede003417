import { afterEach, describe, expect, it } from 'vitest';
import { resolveProfile } from '../../shared/src/kernel/mmu/resolve-profile.js';
import { migrationJobSchema } from '../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../shared/src/migration/job/run-migration-job.js';
import { BullmqTransport } from '../../shared/src/cluster/queue/bullmq-transport.js';
import { failuresKey, resultsKey } from '../../shared/src/cluster/queue/queue-names.js';
import { encodeResult } from '../../shared/src/cluster/queue/result-codec.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';
import { cleanup, REDIS_URL, sleep, testPrefix } from '../helpers/cluster.js';

/** The coordinator's side of the queue against the real Redis, with no workers: the test plays the workers' part. */
const JOB = migrationJobSchema.parse({ vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } });
const RUN = 'transport-test';
const N = 600;

describe('BullmqTransport', () => {
  const prefixes: string[] = [];
  const transports: BullmqTransport[] = [];

  async function open(): Promise<{ prefix: string; transport: BullmqTransport }> {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const transport = await BullmqTransport.open({ redisUrl: REDIS_URL, prefix, runId: RUN, poll: { maxPollMs: 10 } });
    transports.push(transport);
    return { prefix, transport };
  }

  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
    for (const p of prefixes.splice(0)) await cleanup(p);
  });

  it('queues every job of a turn, and returns the results the workers store', async () => {
    const { prefix, transport } = await open();
    const ids = Array.from({ length: N }, (_, i) => `${RUN}.j${i}`);
    await Promise.all(ids.map((id) => transport.submit({ id, job: JOB })));
    expect(await transport.queue.getWaitingCount()).toBe(N);

    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    try {
      const result = JSON.stringify(runMigrationJob(JOB, resolveProfile(JOB.kernel.profile)));
      // One stored as workers store results, one as plain JSON (as stored before results were compressed).
      await redis.hset(resultsKey(prefix, RUN), ids[0]!, encodeResult(result, true), ids[N - 1]!, result);
      const got = await transport.nextResults();
      expect(got.map((o) => o.id).sort()).toEqual([ids[0], ids[N - 1]].sort());
      expect(JSON.stringify(got[0]!.result)).toBe(result);
    } finally {
      redis.disconnect();
    }
  });

  it('finds a new result even when trimming a taken one brought the results count back to where it was', async () => {
    const { prefix, transport } = await open();
    const [a, b] = [`${RUN}.a`, `${RUN}.b`];
    await Promise.all([transport.submit({ id: a, job: JOB }), transport.submit({ id: b, job: JOB })]);
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    try {
      const result = JSON.stringify(runMigrationJob(JOB, resolveProfile(JOB.kernel.profile)));
      await redis.hset(resultsKey(prefix, RUN), a, result);
      expect((await transport.nextResults()).map((o) => o.id)).toEqual([a]);
      // The taken result is trimmed and the next one stored: the hash's count is 1 again, as at the last read.
      await redis.hdel(resultsKey(prefix, RUN), a);
      await redis.hset(resultsKey(prefix, RUN), b, result);
      const got = await Promise.race([transport.nextResults(), sleep(5000).then(() => 'still waiting after 5 s')]);
      expect(got).not.toBe('still waiting after 5 s');
      expect((got as { id: string }[]).map((o) => o.id)).toEqual([b]);
    } finally {
      redis.disconnect();
    }
  });

  it('a job submitted while a batch is being sent is queued by the time its submit resolves', async () => {
    const { transport } = await open();
    const first = transport.submit({ id: `${RUN}.a`, job: JOB });
    // The first batch is on its way to Redis (its HMGET sent).
    await new Promise((resolve) => setImmediate(resolve));
    const second = transport.submit({ id: `${RUN}.b`, job: JOB });
    await second;
    expect((await transport.queue.getWaiting()).map((j) => j.id).sort()).toEqual([`${RUN}.a`, `${RUN}.b`]);
    await first;
  });

  it('stops waiting when any pending job failed for good, however many are pending', async () => {
    const { prefix, transport } = await open();
    for (let i = 0; i < N; i++) void transport.submit({ id: `${RUN}.j${i}`, job: JOB });
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    try {
      // The last job submitted, behind 599 pending ones, failed on a worker.
      await redis.hset(failuresKey(prefix, RUN), `${RUN}.j${N - 1}`, 'boom');
      const waited = Promise.race([transport.nextResults(), sleep(10_000).then(() => 'still waiting after 10 s')]);
      await expect(waited).rejects.toThrow(`job ${RUN}.j${N - 1} failed on a worker: boom`);
    } finally {
      redis.disconnect();
    }
  });
});
