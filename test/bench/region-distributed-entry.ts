import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { cleanup } from '../helpers/cluster.js';
import { sizeScenario } from '../../shared/src/cluster/loadgen/size-scenario.js';
import { runRegionEmbedded } from '../../shared/src/cluster/region/region-flow-embedded.js';
import { runRegionFlow } from '../../shared/src/cluster/region/region-flow.js';
import { REGION_DEFAULTS } from '../../shared/src/cluster/region/region-defaults.js';
import { runRegion } from '../../shared/src/cluster/region/run-region.js';
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
  /**
   * The workers' CPU seconds during the distributed run by thread role, summed over the processes (from
   * /proc/<pid>/task/<tid>/stat; the thread ids of each role come from the worker's 'worker ready' line). `other` is
   * V8's platform threads (GC helpers, concurrent compilation), libuv's and the module loader's threads.
   */
  readonly distributed_cpu_by_role_s: { readonly main: number; readonly coordinator_threads: number; readonly simulation_threads: number; readonly other: number };
  /** CPU per migration, ms: embedded (this process) and distributed (workers + Redis). */
  readonly cpu_ms_per_migration: { readonly embedded: number; readonly distributed: number };
  /** Wall seconds from spawning the worker processes until each said it was ready (all threads loaded); not in distributed_wall_s. */
  readonly worker_startup_s: number;
  /** The distributed run again on the same workers after the two runs above (their V8 isolates warm), workers' CPU. */
  readonly distributed_warm: { readonly wall_s: number; readonly migrations_per_s: number; readonly vs_embedded: number; readonly cpu_s: number; readonly digests_match: boolean };
  /**
   * The same region as a flow on the same workers, after the distributed run, with each cluster's migration jobs
   * simulated on its coordinator's thread (`migrations: 'coordinator'`) instead of shipped to the migration workers.
   */
  /**
   * The same region embedded as `migsim run` runs it by default: clusters side by side on threads, one per core. On
   * one machine the distributed run competes with this for the same cores; distribution adds machines, not cores.
   */
  readonly embedded_threads: { readonly threads: number; readonly wall_s: number; readonly distributed_vs: number; readonly digests_match: boolean };
  readonly coordinator_migrations: { readonly wall_s: number; readonly migrations_per_s: number; readonly vs_embedded: number; readonly cpu_s: number; readonly digest: string; readonly digests_match: boolean };
  /** Each cluster coordinator's wall and the part of it spent waiting for results, in the (cold) distributed run (from the workers' logs). */
  readonly cluster_coordinators: readonly ClusterFinished[];
  /** Extra node arguments of the worker processes (MIGSIM_BENCH_WORKER_NODE_ARGS), for experiments. */
  readonly worker_node_args: readonly string[];
  /** The machine's 1-minute load average before each run (other work on the machine shifts the ratio). */
  readonly load_before: { readonly embedded: number; readonly distributed: number; readonly coordinator_migrations: number; readonly distributed_warm: number };
}

/** CPU seconds (user + system) from a /proc stat file: a process (its threads included) or one thread. */
function statCpuS(path: string): number {
  const f = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const procCpuS = (pid: number): number => statCpuS(`/proc/${pid}/stat`);

/** CPU seconds of each live thread of a process, by thread id. */
function threadCpuS(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statCpuS(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** What a worker process says once every thread is loaded (serve-worker.ts's 'worker ready' log line). */
export interface WorkerReady {
  readonly pid: number;
  readonly simulation_tids: readonly number[];
  readonly coordinator_tids: readonly number[];
}

/** A cluster coordinator's summary line ('cluster coordinator finished'): its wall and how much of it went waiting for results. */
export interface ClusterFinished {
  readonly cluster: string;
  readonly wall_s: number;
  readonly waited_for_results_s: number;
}

/**
 * Resolves with the worker's 'worker ready' line (it logs JSON lines on stderr); rejects if it exits first. Cluster
 * coordinators' summary lines go into `finished`.
 */
export function waitReady(p: ChildProcess, finished: ClusterFinished[] = []): Promise<WorkerReady> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stderr!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          if (line.includes('"worker ready"')) resolve(JSON.parse(line) as WorkerReady);
          else if (line.includes('"cluster coordinator finished"')) {
            const f = JSON.parse(line) as ClusterFinished;
            finished.push({ cluster: f.cluster, wall_s: f.wall_s, waited_for_results_s: f.waited_for_results_s });
          }
        } catch {
          // Not a log line of ours.
        }
      }
    });
    p.once('exit', (code) => reject(new Error(`worker process exited (code ${code}) before it was ready`)));
  });
}

type Role = 'main' | 'coordinator_threads' | 'simulation_threads' | 'other';

/** CPU seconds by thread role between two snapshots of the workers' threads (threads that ended count from 0). */
function cpuByRole(ready: readonly WorkerReady[], before: readonly Map<number, number>[], after: readonly Map<number, number>[]): Record<Role, number> {
  const out: Record<Role, number> = { main: 0, coordinator_threads: 0, simulation_threads: 0, other: 0 };
  ready.forEach((r, i) => {
    for (const [tid, cpu] of after[i]!) {
      const role: Role = tid === r.pid ? 'main' : r.coordinator_tids.includes(tid) ? 'coordinator_threads' : r.simulation_tids.includes(tid) ? 'simulation_threads' : 'other';
      out[role] += cpu - (before[i]!.get(tid) ?? 0);
    }
  });
  return out;
}

async function redisCpuS(r: Redis): Promise<number> {
  const info = await r.info('cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)![1]);
  return get('used_cpu_sys') + get('used_cpu_user');
}

/**
 * region_distributed: a region of CLUSTERS clusters of HOSTS hosts (rolling-upgrade-1000 resized, seeds 1, 2, …)
 * embedded (one cluster after another in this process), then as a BullMQ flow with WORKERS worker processes, each
 * serving COORDINATORS cluster coordinators and the migration jobs (`--concurrency`: MIGSIM_BENCH_WORKER_CONCURRENCY,
 * default 1). Throughput is migrations per wall second. One coordinator and one simulation thread per process: on
 * this 2-core machine that costs ~2.5 s less CPU per run than 2 + 2 (fewer V8 isolates to warm up and collect;
 * docs/scaling.md), for the same wall. The clock starts once every worker says it is ready.
 */
export async function regionDistributedEntry(clustersN = 4, hosts = 200, workers = 2, coordinators = Number(process.env.MIGSIM_BENCH_COORDINATORS ?? 1)): Promise<RegionDistributedResult> {
  const template = loadScenario('scenarios/rolling-upgrade-1000.yaml');
  const cluster = sizeScenario(template, hosts * (template.vms.per_host ?? 24), template.seed, `region-${hosts}h`);
  const clusters = regionClusters({ ...cluster, region: { clusters: clustersN } });
  const runId = `bench-region-${randomUUID().slice(0, 8)}`;
  const loadEmbedded = (await import('node:os')).loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const embedded = await runRegionEmbedded({ regionName: 'bench', clusters, runId, outDir: `/tmp/migsim-bench-region/${runId}-embedded` });

  const cpuE = process.cpuUsage(cpu0);
  // The same clusters and run ids through runRegion on threads (the embedded default), for the record.
  const threads = REGION_DEFAULTS.threads();
  const tt0 = performance.now();
  const onThreads = await runRegion({ scenario: { ...cluster, region: { clusters: clustersN } }, outDir: `/tmp/migsim-bench-region/${runId}-embedded-threads`, runId, threads, ndjson: false });
  const threadsWallS = (performance.now() - tt0) / 1e3;
  const prefix = `{migsim-bench-${randomUUID().slice(0, 8)}}`;
  const procs: ChildProcess[] = [];
  const nodeArgs = (process.env.MIGSIM_BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
  const s0 = performance.now();
  for (let i = 0; i < workers; i++) {
    procs.push(
      spawn(process.execPath, [...nodeArgs, 'shared/bin/migsim.mjs', 'worker', '--redis', REDIS, '--prefix', prefix, '--concurrency', process.env.MIGSIM_BENCH_WORKER_CONCURRENCY ?? '1', '--coordinators', String(coordinators)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        // Info level: the bench waits for each process's 'worker ready' line.
        env: { ...process.env, LOG_LEVEL: 'info' },
      }),
    );
  }
  try {
    // Worker services are long-lived: the region's throughput is measured once every process has loaded its threads.
    const finished: ClusterFinished[] = [];
    const ready = await Promise.all(procs.map((p) => waitReady(p, finished)));
    const startupS = (performance.now() - s0) / 1e3;
    const redis = new Redis(REDIS);
    const loadDistributed = (await import('node:os')).loadavg()[0]!;
    const w0 = procs.map((p) => procCpuS(p.pid!));
    const t0 = procs.map((p) => threadCpuS(p.pid!));
    const r0 = await redisCpuS(redis);
    const dist = await runRegionFlow({ regionName: 'bench', clusters, runId, redisUrl: REDIS, prefix, outDir: `/tmp/migsim-bench-region/${runId}-distributed`, pollMs: 50 });
    const t1 = procs.map((p) => threadCpuS(p.pid!));
    // This run's coordinators (each logs its line before its cluster job completes, so before the flow returns).
    const coordinatorsOfRun = finished.splice(0);
    const workersCpu = procs.reduce((a, p, i) => a + procCpuS(p.pid!) - w0[i]!, 0);
    const redisCpu = (await redisCpuS(redis)) - r0;
    // The same region again on the same (warm) workers, each cluster simulating its migrations on its coordinator's
    // thread instead of shipping them to the migration workers.
    const loadLocal = (await import('node:os')).loadavg()[0]!;
    const w2 = procs.map((p) => procCpuS(p.pid!));
    // The same run id (job ids and the digest derive from it): the first flow's jobs and results are gone by now.
    const local = await runRegionFlow({ regionName: 'bench', clusters, runId, redisUrl: REDIS, prefix, outDir: `/tmp/migsim-bench-region/${runId}-coordinator-migrations`, pollMs: 50, migrations: 'coordinator' });
    const localCpu = procs.reduce((a, p, i) => a + procCpuS(p.pid!) - w2[i]!, 0);
    // And the distributed run once more on the now warm workers (their isolates have compiled the code): how much of
    // the first run's cost is V8 warming up ten (or six) isolates instead of one.
    const loadWarm = (await import('node:os')).loadavg()[0]!;
    const w3 = procs.map((p) => procCpuS(p.pid!));
    const warm = await runRegionFlow({ regionName: 'bench', clusters, runId, redisUrl: REDIS, prefix, outDir: `/tmp/migsim-bench-region/${runId}-distributed-warm`, pollMs: 50 });
    const warmCpu = procs.reduce((a, p, i) => a + procCpuS(p.pid!) - w3[i]!, 0);
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
      distributed_cpu_by_role_s: cpuByRole(ready, t0, t1),
      cpu_ms_per_migration: { embedded: ((cpuE.user + cpuE.system) / 1e3 / embedded.migrations), distributed: ((workersCpu + redisCpu) / dist.migrations) * 1e3 },
      worker_startup_s: startupS,
      cluster_coordinators: coordinatorsOfRun.sort((a, b) => a.cluster.localeCompare(b.cluster)),
      worker_node_args: nodeArgs,
      load_before: { embedded: loadEmbedded, distributed: loadDistributed, coordinator_migrations: loadLocal, distributed_warm: loadWarm },
      distributed_warm: {
        wall_s: warm.wallS,
        migrations_per_s: warm.migrations / warm.wallS,
        vs_embedded: warm.migrations / warm.wallS / eRate,
        cpu_s: warmCpu,
        digests_match: warm.digest === embedded.digest,
      },
      embedded_threads: { threads, wall_s: threadsWallS, distributed_vs: dRate / (onThreads.totals.migrations.total / threadsWallS), digests_match: onThreads.digest === embedded.digest },
      coordinator_migrations: {
        wall_s: local.wallS,
        migrations_per_s: local.migrations / local.wallS,
        vs_embedded: local.migrations / local.wallS / eRate,
        cpu_s: localCpu,
        digest: local.digest,
        digests_match: local.digest === embedded.digest,
      },
    };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await cleanup(prefix, REDIS);
  }
}
