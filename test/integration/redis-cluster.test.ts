import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { sleep } from '../helpers/cluster.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { distributedSuite } from './distributed-suite.js';

const nodes: RedisServer[] = [];
let url = '';

/** A 3-master Redis Cluster on local ports, started by the test. */
beforeAll(async () => {
  for (let i = 0; i < 3; i++) nodes.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--save', '', '--appendonly', 'no'] }));
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  url = `redis://${addrs.join(',')}`;
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  for (let i = 0; i < 100; i++) {
    const info = spawnSync('redis-cli', ['-p', String(nodes[0]!.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
    if (info.includes('cluster_state:ok')) return;
    await sleep(100);
  }
  throw new Error('the cluster did not reach cluster_state:ok');
}, 60_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

distributedSuite('3-node Redis Cluster', () => url);
