import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { cleanup } from '../helpers/cluster.js';
import { Coordinator } from '../../shared/src/cluster/coordinator/coordinator.js';
import { createLogger } from '../../shared/src/common/logger.js';
import { runExperiment } from '../../shared/src/cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../../shared/src/cluster/fleet/embedded-transport.js';
import { loadScenario } from '../../shared/src/cluster/scenario/load-scenario.js';
import type { Scenario } from '../../shared/src/cluster/scenario/scenario-schema.js';
import { simgridFleetArgs } from './simgrid-fleet-args.js';
import { locateSimgrid, runSimgrid } from './simgrid-peer.js';

const REDIS = process.env.MIGSIM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface FleetBenchResult {
  readonly scenario: string;
  readonly jobs: number;
  readonly embedded_wall_s: number;
  /** Peak RSS of the bench process right after the embedded run (before the distributed runs), bytes. */
  readonly peak_rss_bytes: number;
  /** The SimGrid 3.32 harness on the same fleet shape, in the same invocation; null with `simgrid_reason` when not run. */
  readonly simgrid: SimgridFleetResult | null;
  readonly simgrid_reason: string | null;
  /** Its `wall_s` (Engine::run(), setup excluded; wall_setup_s is in `simgrid`). */
  readonly simgrid_wall_s: number | null;
  readonly simgrid_peak_rss_bytes: number | null;
  /** simgrid_wall_s / embedded_wall_s: above 1, migsim embedded is faster. */
  readonly speedup_vs_simgrid: number | null;
  readonly workers1_jobs_per_s: number | null;
  readonly workers2_jobs_per_s: number | null;
  readonly workers2_over_workers1: number | null;
  readonly noop_bullmq_jobs_per_s: number | null;
  readonly digest_embedded: string;
  readonly digests_match: boolean | null;
}

export interface SimgridFleetResult {
  readonly command: string;
  /** What of the scenario the harness cannot express, and what stands in for it. */
  readonly unmapped: readonly string[];
  readonly migrations: number;
  readonly makespan_s: number;
  readonly mig_mean_s: number;
  readonly wall_setup_s: number;
}

/** The SimGrid harness on the scenario's fleet shape, or why not. */
function simgridOf(scenario: Scenario): { result: SimgridFleetResult | null; reason: string | null; wall: number | null; rss: number | null } {
  const loc = locateSimgrid();
  if (loc.path === null) return { result: null, reason: loc.reason, wall: null, rss: null };
  const { args, unmapped } = simgridFleetArgs(scenario);
  try {
    const r = runSimgrid(loc.path, args);
    return {
      result: { command: `${loc.path} ${args.join(' ')}`, unmapped, migrations: r.migrations, makespan_s: r.makespan_s, mig_mean_s: r.mig_mean_s, wall_setup_s: r.wall_setup_s },
      reason: null,
      wall: r.wall_s,
      rss: Math.round(r.peak_rss_mib * 2 ** 20),
    };
  } catch (e) {
    return { result: null, reason: e instanceof Error ? e.message : String(e), wall: null, rss: null };
  }
}

async function distributed(file: string, workers: number): Promise<{ jobsPerS: number; digest: string }> {
  const prefix = `{migsim-bench-${randomUUID().slice(0, 8)}}`;
  const procs: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) {
    procs.push(spawn(process.execPath, ['shared/bin/migsim.mjs', 'worker', '--redis', REDIS, '--prefix', prefix, '--concurrency', '2'], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'error' } }));
  }
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const scenario = loadScenario(file);
    const c = new Coordinator({ scenario, redisUrl: REDIS, prefix }, createLogger('bench', 'error'));
    const t0 = performance.now();
    const r = await c.run();
    const wall = (performance.now() - t0) / 1e3;
    await c.close();
    return { jobsPerS: r.summary.jobs / wall, digest: r.summary.digest };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await cleanup(prefix, REDIS);
  }
}

/** The queue's own ceiling on this Redis: no-op jobs through one BullMQ worker of the same concurrency, per second. */
async function noopJobsPerS(n: number): Promise<number> {
  const prefix = `{migsim-bench-noop-${randomUUID().slice(0, 8)}}`;
  const conn = new Redis(REDIS, { maxRetriesPerRequest: null });
  const wconn = new Redis(REDIS, { maxRetriesPerRequest: null });
  const q = new Queue('noop', { connection: conn, prefix });
  const w = new Worker('noop', async () => ({ ok: true }), { connection: wconn, prefix, concurrency: 4 });
  let done = 0;
  const finished = new Promise<void>((resolve) => w.on('completed', () => (++done === n ? resolve() : undefined)));
  const t0 = performance.now();
  for (let i = 0; i < n; i += 500) {
    await q.addBulk(Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ name: 'j', data: { i: i + k }, opts: { jobId: `n${i + k}`, removeOnComplete: true } })));
  }
  await finished;
  const rate = n / ((performance.now() - t0) / 1e3);
  await w.close();
  await q.close();
  conn.disconnect();
  wconn.disconnect();
  await cleanup(prefix, REDIS);
  return rate;
}

async function redisUp(): Promise<boolean> {
  const r = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * fleet_1000x24: the rolling-upgrade scenario embedded, then the SimGrid peer harness on the same fleet shape (its own
 * process, one at a time), then with 1 and 2 worker processes over BullMQ.
 */
export async function fleetEntry(file: string): Promise<FleetBenchResult> {
  const scenario = loadScenario(file);
  const t0 = performance.now();
  const { summary } = await runExperiment({ scenario, transport: new EmbeddedTransport() });
  const embedded = (performance.now() - t0) / 1e3;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const sg = simgridOf(scenario);
  const head = {
    scenario: scenario.name,
    jobs: summary.jobs,
    embedded_wall_s: embedded,
    peak_rss_bytes: peakRss,
    simgrid: sg.result,
    simgrid_reason: sg.reason,
    simgrid_wall_s: sg.wall,
    simgrid_peak_rss_bytes: sg.rss,
    speedup_vs_simgrid: sg.wall === null ? null : sg.wall / embedded,
  };
  if (!(await redisUp())) {
    return { ...head, workers1_jobs_per_s: null, workers2_jobs_per_s: null, workers2_over_workers1: null, noop_bullmq_jobs_per_s: null, digest_embedded: summary.digest, digests_match: null };
  }
  const w1 = await distributed(file, 1);
  const w2 = await distributed(file, 2);
  const noop = await noopJobsPerS(20_000);
  return {
    ...head,
    workers1_jobs_per_s: w1.jobsPerS,
    workers2_jobs_per_s: w2.jobsPerS,
    workers2_over_workers1: w2.jobsPerS / w1.jobsPerS,
    noop_bullmq_jobs_per_s: noop,
    digest_embedded: summary.digest,
    digests_match: w1.digest === summary.digest && w2.digest === summary.digest,
  };
}
