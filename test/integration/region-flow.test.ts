import type { ChildProcess } from 'node:child_process';
import { clusterRunId } from '../../shared/src/cluster/region/region-clusters.js';
import { existsSync, readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { JOBS_QUEUE, BATCH_JOB_NAME, failuresKey, resultsKey } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';

import { runRegionEmbedded } from '../../shared/src/cluster/region/region-flow-embedded.js';
import { runRegionFlow } from '../../shared/src/cluster/region/region-flow.js';
import { regionClusters } from '../../shared/src/cluster/region/region-clusters.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';
import { cleanup, jobsDone, REDIS_URL, sleep, startWorker, stopAll, testPrefix, until } from '../helpers/cluster.js';

const QUICK = loadScenario('scenarios/quick.yaml');
const MEDIUM = loadScenario('test/fixtures/scenarios/medium.yaml');
/** Processes that serve coordinator jobs beside migration jobs; locks long enough for a coordinator's stretches. */
const coordinatorWorker = (prefix: string, env: Record<string, string> = {}) =>
  startWorker(prefix, { env: { WORKER_COORDINATORS: '2', COORDINATOR_LOCK_DURATION_MS: '3000', LOCK_DURATION_MS: '10000', LOG_LEVEL: 'info', ...env } });

describe('a region run as a BullMQ flow of cluster coordinators', () => {
  const procs: ChildProcess[] = [];
  const prefixes: string[] = [];
  const prefix = (): string => {
    const p = testPrefix();
    prefixes.push(p);
    return p;
  };

  afterEach(async () => {
    await stopAll(procs.splice(0));
    for (const p of prefixes.splice(0)) await cleanup(p);
  });

  it('gives the embedded region digest with 2 worker processes serving coordinators and migrations', async () => {
    const clusters = regionClusters({ ...QUICK, region: { clusters: 3 } });
    const embedded = await runRegionEmbedded({ regionName: 'r', clusters, runId: 'itest-region', outDir: '/tmp/migsim-test-region-emb' });
    const p = prefix();
    procs.push(coordinatorWorker(p), coordinatorWorker(p));
    const out = '/tmp/migsim-test-region-dist';
    const r = await runRegionFlow({ regionName: 'r', clusters, runId: 'itest-region', redisUrl: REDIS_URL, prefix: p, outDir: out, pollMs: 50 });
    expect(r.clusters.map((c) => c.digest)).toEqual(embedded.clusters.map((c) => c.digest));
    expect(r.digest).toBe(embedded.digest);
    expect(JSON.parse(readFileSync(`${out}/region.json`, 'utf8')).digest).toBe(embedded.digest);
    for (const c of clusters) expect(existsSync(`${out}/${c.name}/summary.json`), c.name).toBe(true);
    // The clusters' results are trimmed from Redis once the region is written.
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    try {
      expect(await redis.exists(resultsKey(p, clusterRunId('itest-region', 'c0')))).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('gives the embedded region digest when the clusters simulate their migrations on their coordinators (no migration jobs queued)', async () => {
    const clusters = regionClusters({ ...QUICK, region: { clusters: 2 } });
    const embedded = await runRegionEmbedded({ regionName: 'r', clusters, runId: 'itest-region-local', outDir: '/tmp/migsim-test-region-local-emb' });
    const p = prefix();
    procs.push(coordinatorWorker(p));
    const r = await runRegionFlow({ regionName: 'r', clusters, runId: 'itest-region-local', redisUrl: REDIS_URL, prefix: p, outDir: '/tmp/migsim-test-region-local', pollMs: 50, migrations: 'coordinator', keepResults: true });
    expect(r.digest).toBe(embedded.digest);
    // No job was ever added to the migration jobs queue (its events stream would list each 'added').
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    try {
      const events = await redis.xrange(`${p}:${JOBS_QUEUE}:events`, '-', '+');
      expect(events.filter(([, fields]) => fields[fields.indexOf('event') + 1] === 'added')).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('completes with the same digest when a process running coordinators is killed mid-run (its cluster jobs stall and are retried)', async () => {
    const clusters = regionClusters({ ...MEDIUM, region: { clusters: 2 } });
    const embedded = await runRegionEmbedded({ regionName: 'r', clusters, runId: 'itest-region-kill', outDir: '/tmp/migsim-test-region-kill-emb' });
    const p = prefix();
    const victim = coordinatorWorker(p);
    procs.push(victim);
    let victimLog = '';
    victim.stderr?.on('data', (d) => (victimLog += d));
    await until('the victim serving', 15_000, () => victimLog.includes('serving coordinator jobs'));
    const run = runRegionFlow({ regionName: 'r', clusters, runId: 'itest-region-kill', redisUrl: REDIS_URL, prefix: p, outDir: '/tmp/migsim-test-region-kill', pollMs: 50 });
    run.catch(() => {});
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    try {
      // Both clusters' coordinators run in the victim; kill it once some migrations are in.
      await until('results of cluster c0', 30_000, async () => (await jobsDone(p, clusterRunId('itest-region-kill', 'c0'))) >= 100);
      expect(victimLog.match(/cluster coordinator started/g)?.length).toBe(2);
      const rescuer = coordinatorWorker(p);
      procs.push(rescuer);
      let rescuerLog = '';
      rescuer.stderr?.on('data', (d) => (rescuerLog += d));
      victim.kill('SIGKILL');
      const r = await run;
      expect(r.digest).toBe(embedded.digest);
      expect(rescuerLog.match(/cluster coordinator started/g)?.length, rescuerLog).toBe(2);
    } finally {
      redis.disconnect();
    }
  });

  it('a malformed job inside a batch fails alone with its reason; the batch completes and a re-sent batch simulates nothing again', async () => {
    const p = prefix();
    procs.push(startWorker(p));
    const conn = createRedis(REDIS_URL, { blocking: true });
    await conn.connect();
    const redis = createRedis(REDIS_URL, { blocking: false });
    await redis.connect();
    const queue = new Queue(JOBS_QUEUE, { connection: conn, prefix: p });
    try {
      const job = { vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } };
      const jobs = [
        { id: 'ok-1', job },
        { id: 'bad-vm', job: { vm: { ram_bytes: -1 } } },
        { id: 'ok-2', job },
        { id: 'big', job: { ...job, junk: 'x'.repeat(300 * 1024) } },
        'not an object',
        { id: 'ok-3', job },
      ];
      await queue.add(BATCH_JOB_NAME, { run_id: 'b', jobs }, { jobId: 'batch-1', attempts: 3 });
      await queue.add(BATCH_JOB_NAME, { run_id: 'b', jobs: 'none' }, { jobId: 'batch-bad', attempts: 3 });
      await until('the batch finished', 20_000, async () => (await queue.getJobState('batch-1')) === 'completed' && (await queue.getJobState('batch-bad')) === 'failed');
      const done = await queue.getJob('batch-1');
      expect(done?.returnvalue.done).toBe(3);
      expect(done?.returnvalue.failed.map((f: { index: number }) => f.index)).toEqual([1, 3, 4]);
      expect(await redis.hkeys(resultsKey(p, 'b'))).toEqual(expect.arrayContaining(['ok-1', 'ok-2', 'ok-3']));
      expect(await redis.hlen(resultsKey(p, 'b'))).toBe(3);
      const failures = await redis.hgetall(failuresKey(p, 'b'));
      expect(failures['bad-vm']).toMatch(/^invalid job payload: job\.vm/);
      expect(failures.big).toMatch(/exceeds the 262144-byte limit/);
      expect(failures['batch-1[4]']).toMatch(/^invalid job payload: \(top level\): .*expected object/);
      // The envelope itself wrong: the whole batch fails, once, without retries.
      const bad = await queue.getJob('batch-bad');
      expect(bad?.failedReason).toMatch(/^invalid job payload: jobs: /);
      expect(bad?.attemptsMade).toBe(1);
      // The same jobs sent again: answered from the results hash.
      await queue.add(BATCH_JOB_NAME, { run_id: 'b', jobs: [jobs[0], jobs[2], jobs[5]] }, { jobId: 'batch-2' });
      await until('the re-sent batch', 20_000, async () => (await queue.getJobState('batch-2')) === 'completed');
      expect((await queue.getJob('batch-2'))?.returnvalue).toEqual({ done: 0, cached: 3, failed: [] });
      await sleep(10);
    } finally {
      await queue.close();
      conn.disconnect();
      redis.disconnect();
    }
  });
});
