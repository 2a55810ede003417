import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { cleanup } from '../helpers/cluster.js';
import { Coordinator } from '../../shared/src/cluster/coordinator/coordinator.js';
import { createLogger } from '../../shared/src/common/logger.js';
import { runExperiment } from '../../shared/src/cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../../shared/src/cluster/fleet/embedded-transport.js';
import { sizeScenario } from '../../shared/src/cluster/loadgen/size-scenario.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';
import { waitReady } from './region-distributed-entry.js';

const REDIS = process.env.MIGSIM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TICK = 100; // USER_HZ

/** CPU seconds (user + system) of a process so far, from /proc. */
function procCpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

async function redisStats(r: Redis): Promise<{ cpuS: number; commands: number }> {
  const info = await r.info();
  const get = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)![1]);
  return { cpuS: get('used_cpu_sys') + get('used_cpu_user'), commands: get('total_commands_processed') };
}

/**
 * The per-migration costs of a distributed run, measured: coordinator CPU, worker CPU, Redis CPU and commands per
 * migration, with jobs sent one per BullMQ job and in batches. `tsx test/bench/distributed-costs.ts [hosts] [workers]`.
 */
async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? 200);
  const workers = Number(process.argv[3] ?? 2);
  const template = loadScenario('scenarios/rolling-upgrade-1000.yaml');
  const scenario = sizeScenario(template, hosts * 24, template.seed, `costs-${hosts}h`);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const emb = await runExperiment({ scenario, transport: new EmbeddedTransport() });
  const embWall = (performance.now() - t0) / 1e3;
  const embCpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6;
  const n = emb.summary.migrations.total;
  const out: Record<string, unknown> = { hosts, migrations: n, jobs: emb.summary.jobs, embedded: { wall_s: embWall, cpu_ms_per_migration: (embCpu / n) * 1e3 } };
  const redis = new Redis(REDIS);
  for (const perBatch of (process.env.BATCHES ?? '1,64').split(',').map(Number)) {
    const prefix = `{migsim-bench-${randomUUID().slice(0, 8)}}`;
    const procs: ChildProcess[] = [];
    for (let i = 0; i < workers; i++) procs.push(spawn(process.execPath, ['shared/bin/migsim.mjs', 'worker', '--redis', REDIS, '--prefix', prefix, '--concurrency', '2'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } }));
    // Measured from when every worker has loaded its threads (its 'worker ready' line), not from a guess.
    await Promise.all(procs.map((p) => waitReady(p)));
    const w0 = procs.map((p) => procCpuS(p.pid!));
    const r0 = await redisStats(redis);
    const cc0 = process.cpuUsage();
    const coordinator = new Coordinator({ scenario, redisUrl: REDIS, prefix, jobsPerBatch: perBatch }, createLogger('bench', 'error'));
    const t1 = performance.now();
    const r = await coordinator.run();
    const wall = (performance.now() - t1) / 1e3;
    const cc = process.cpuUsage(cc0);
    const r1 = await redisStats(redis);
    const w1 = procs.map((p) => procCpuS(p.pid!));
    await coordinator.close();
    for (const p of procs) p.kill('SIGTERM');
    const workerCpu = w1.reduce((a, x, i) => a + x - w0[i]!, 0);
    out[`batch_${perBatch}`] = {
      wall_s: wall,
      migrations_per_s: n / wall,
      vs_embedded: embWall / wall,
      coordinator_cpu_ms_per_migration: ((cc.user + cc.system) / 1e3 / n),
      worker_cpu_ms_per_migration: (workerCpu / n) * 1e3,
      redis_cpu_ms_per_migration: ((r1.cpuS - r0.cpuS) / n) * 1e3,
      redis_commands_per_migration: (r1.commands - r0.commands) / n,
      digest_match: r.summary.digest === emb.summary.digest,
    };
    await new Promise((res) => setTimeout(res, 1000));
    await cleanup(prefix, REDIS);
  }
  redis.disconnect();
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

void main();
