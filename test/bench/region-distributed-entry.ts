import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { sizeScenario } from '../../shared/src/cluster/loadgen/size-scenario.js';
import { runRegionEmbedded } from '../../shared/src/cluster/region/region-flow-embedded.js';
import { runRegionFlow } from '../../shared/src/cluster/region/region-flow.js';
import { regionClusters } from '../../shared/src/cluster/region/region-clusters.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';

const REDIS = process.env.MIGSIM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface RegionDistributedResult {
  readonly clusters: number;
  readonly hosts_per_cluster: number;
  readonly migrations: number;
  readonly embedded_wall_s: number;
  readonly distributed_wall_s: number;
  readonly embedded_migrations_per_s: number;
  readonly distributed_migrations_per_s: number;
  /** Distributed throughput over embedded, same region, same invocation. */
  readonly distributed_vs_embedded: number;
  readonly worker_processes: number;
  readonly coordinators_per_process: number;
  readonly digest_embedded: string;
  readonly digest_distributed: string;
  readonly digests_match: boolean;
  /** CPU seconds of the embedded run (this process). */
  readonly embedded_cpu_s: number;
  /** CPU seconds of the distributed run: worker processes (coordinator and simulation threads included) and Redis. */
  readonly distributed_cpu_s: { readonly workers: number; readonly redis: number };
  /** The machine's 1-minute load average before each run (other work on the machine shifts the ratio). */
  readonly load_before: { readonly embedded: number; readonly distributed: number };
}

/** CPU seconds (user + system) a process has used so far, its threads included, from /proc. */
function procCpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function redisCpuS(r: Redis): Promise<number> {
  const info = await r.info('cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)![1]);
  return get('used_cpu_sys') + get('used_cpu_user');
}

async function cleanup(prefix: string): Promise<void> {
  const r = new Redis(REDIS);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
  r.disconnect();
}

/**
 * region_distributed: a region of CLUSTERS clusters of HOSTS hosts (rolling-upgrade-1000 resized, seeds 1, 2, …)
 * embedded (one cluster after another in this process), then as a BullMQ flow with WORKERS worker processes, each
 * serving COORDINATORS cluster coordinators and the migration jobs. Throughput is migrations per wall second.
 */
export async function regionDistributedEntry(clustersN = 4, hosts = 200, workers = 2, coordinators = 2): Promise<RegionDistributedResult> {
  const template = loadScenario('scenarios/rolling-upgrade-1000.yaml');
  const cluster = sizeScenario(template, hosts * (template.vms.per_host ?? 24), template.seed, `region-${hosts}h`);
  const clusters = regionClusters({ ...cluster, region: { clusters: clustersN } });
  const runId = `bench-region-${randomUUID().slice(0, 8)}`;
  const loadEmbedded = (await import('node:os')).loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const embedded = await runRegionEmbedded({ regionName: 'bench', clusters, runId, outDir: `/tmp/migsim-bench-region/${runId}-embedded` });

  const cpuE = process.cpuUsage(cpu0);
  const prefix = `{migsim-bench-${randomUUID().slice(0, 8)}}`;
  const procs: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) {
    procs.push(
      spawn(process.execPath, ['shared/bin/migsim.mjs', 'worker', '--redis', REDIS, '--prefix', prefix, '--concurrency', process.env.MIGSIM_BENCH_WORKER_CONCURRENCY ?? '2', '--coordinators', String(coordinators)], {
        stdio: 'ignore',
        env: { ...process.env, LOG_LEVEL: 'error' },
      }),
    );
  }
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const redis = new Redis(REDIS);
    const loadDistributed = (await import('node:os')).loadavg()[0]!;
    const w0 = procs.map((p) => procCpuS(p.pid!));
    const r0 = await redisCpuS(redis);
    const dist = await runRegionFlow({ regionName: 'bench', clusters, runId, redisUrl: REDIS, prefix, outDir: `/tmp/migsim-bench-region/${runId}-distributed`, pollMs: 50 });
    const workersCpu = procs.reduce((a, p, i) => a + procCpuS(p.pid!) - w0[i]!, 0);
    const redisCpu = (await redisCpuS(redis)) - r0;
    redis.disconnect();
    const eRate = embedded.migrations / embedded.wallS;
    const dRate = dist.migrations / dist.wallS;
    return {
      clusters: clustersN,
      hosts_per_cluster: hosts,
      migrations: embedded.migrations,
      embedded_wall_s: embedded.wallS,
      distributed_wall_s: dist.wallS,
      embedded_migrations_per_s: eRate,
      distributed_migrations_per_s: dRate,
      distributed_vs_embedded: dRate / eRate,
      worker_processes: workers,
      coordinators_per_process: coordinators,
      digest_embedded: embedded.digest,
      digest_distributed: dist.digest,
      digests_match: embedded.digest === dist.digest,
      embedded_cpu_s: (cpuE.user + cpuE.system) / 1e6,
      distributed_cpu_s: { workers: workersCpu, redis: redisCpu },
      load_before: { embedded: loadEmbedded, distributed: loadDistributed },
    };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await cleanup(prefix);
  }
}
