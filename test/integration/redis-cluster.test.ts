import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { sleep } from '../helpers/cluster.js';
import { distributedSuite } from './distributed-suite.js';

const BASE = 17000 + Math.floor(Math.random() * 2000);
const PORTS = [BASE, BASE + 1, BASE + 2];
const URL = `redis://${PORTS.map((p) => `127.0.0.1:${p}`).join(',')}`;
const nodes: ChildProcess[] = [];
let dir: string;

/** A 3-master Redis Cluster on local ports, started by the test. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'migsim-cluster-'));
  for (const port of PORTS) {
    nodes.push(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }),
    );
  }
  await sleep(800);
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  for (let i = 0; i < 100; i++) {
    const info = spawnSync('redis-cli', ['-p', String(PORTS[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
    if (info.includes('cluster_state:ok')) return;
    await sleep(100);
  }
  throw new Error('the cluster did not reach cluster_state:ok');
}, 60_000);

afterAll(() => {
  for (const n of nodes) n.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

distributedSuite('3-node Redis Cluster', () => URL);
