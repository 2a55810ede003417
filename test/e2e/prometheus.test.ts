import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedFiles } from '../../dashboards/src/index.js';
import { prometheusYaml } from '../../dashboards/src/prometheus-config.js';
import { DISABLE_STRATEGIES } from '../../shared/src/kernel/mmu/disable-strategy.js';
import { JOBS_QUEUE } from '../../shared/src/cluster/queue/queue-names.js';
import { createRedis } from '../../shared/src/cluster/queue/redis-connection.js';
import type { RunSummary } from '../../shared/src/cluster/report/run-summary.js';
import { cleanup, migsimAsync, REDIS_URL, startWorker, stopAll, testPrefix, until } from '../helpers/cluster.js';
import { dashboardQueries, type DashboardJson } from '../helpers/dashboard-queries.js';
import { freePort } from '../helpers/redis-server.js';

const PROMETHEUS = process.env.MIGSIM_PROMETHEUS ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.MIGSIM_PROMTOOL ?? '/usr/bin/promtool';

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** An instant query through Prometheus' HTTP API. */
async function query(base: string, expr: string, time: number): Promise<Sample[]> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr, time: String(time) })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] | [number, string] } };
  if (body.status !== 'success' || !body.data) throw new Error(`${expr}: ${body.error ?? res.status}`);
  if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
  return body.data.result as Sample[];
}

async function scalar(base: string, expr: string, time: number): Promise<number> {
  const r = await query(base, expr, time);
  return r.length === 0 ? Number.NaN : Number(r[0]!.value[1]);
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe('metrics through a real Prometheus', () => {
  const procs: ChildProcess[] = [];
  const prefix = testPrefix();
  afterAll(async () => {
    await stopAll(procs.splice(0));
    await cleanup(prefix);
  });

  it('promtool accepts the compose deployment\u2019s prometheus.yml', () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} (Debian package prometheus; .ci/run installs it)`).toBe(true);
    const r = spawnSync(PROMTOOL, ['check', 'config', 'deploy/prometheus/prometheus.yml'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('scrapes a coordinator and two workers; every panel query returns data and the totals equal summary.json', async () => {
    expect(existsSync(PROMETHEUS), `${PROMETHEUS} (Debian package prometheus; .ci/run installs it)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'migsim-prom-'));
    const [promPort, coordPort, w1, w2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, prometheusYaml({ kind: 'static', coordinator: [`127.0.0.1:${coordPort}`], workers: [`127.0.0.1:${w1}`, `127.0.0.1:${w2}`], scrapeInterval: '1s' }));
    const check = spawnSync(PROMTOOL, ['check', 'config', config], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);

    const prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let promLog = '';
    prom.stderr?.on('data', (d) => (promLog += d));
    procs.push(prom);
    const base = `http://127.0.0.1:${promPort}`;
    await until('Prometheus ready', 30_000, async () => (await fetch(`${base}/-/ready`)).ok).catch((e: Error) => {
      throw new Error(`${e.message}\n${promLog}`);
    });

    // Hold the queue until Prometheus has scraped every service once, so every rate spans the whole run.
    const conn = createRedis(REDIS_URL, { blocking: true });
    const queue = new Queue(JOBS_QUEUE, { connection: conn, prefix });
    try {
      await queue.pause();
      for (const port of [w1, w2]) procs.push(startWorker(prefix, { env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' } }));
      const out = join(dir, 'out');
      const coordinator = migsimAsync(['run', 'quick', '--quiet', '--redis', REDIS_URL, '--metrics-port', String(coordPort), '--metrics-host', '127.0.0.1', '--linger', '120s', '--out', out], { QUEUE_PREFIX: prefix });
      procs.push(coordinator);
      await until('every target up and scraped', 30_000, async () => {
        const now = Date.now() / 1000;
        return (
          (await scalar(base, 'sum(up)', now)) === 3 &&
          (await scalar(base, 'count(migsim_migrations_total)', now)) > 0 &&
          (await scalar(base, 'count(migsim_worker_concurrency)', now)) === 2
        );
      });
      await queue.resume();

      const summaryPath = join(out, 'summary.json');
      await until('summary.json', 120_000, async () => existsSync(summaryPath));
      const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as RunSummary;
      expect(summary.jobs).toBeGreaterThan(100);

      // Totals: Prometheus' equal summary.json's, per strategy, per outcome and for probes. The coordinator applies
      // results after the workers count them, and probes go on after the last migration, so wait until a scrape
      // has seen all of them (no single counter tells that), then compare every pair at that instant.
      const pairs: [string, number][] = [
        ['sum(migsim_dirty_rate_probes_total)', summary.probes],
        ['sum(migsim_worker_jobs_total{result="completed"})', summary.jobs],
      ];
      for (const o of ['completed', 'cancelled', 'failed', 'active'] as const) {
        pairs.push([`sum(migsim_migrations_total{outcome="${o}"}) or vector(0)`, summary.migrations[o]]);
      }
      for (const s of DISABLE_STRATEGIES) {
        const t = summary.strategies[s];
        const w = summary.whole_cost.strategies[s];
        pairs.push(
          // The whole cost, and the MMU's share of it (every host CPU component but the migration thread).
          [`sum(migsim_host_cpu_seconds_total{strategy="${s}"})`, w.host_cpu_total_s],
          [`sum(migsim_host_cpu_seconds_total{strategy="${s}",component="disable"})`, w.disable_host_cpu_s],
          [`sum(migsim_guest_impact_seconds_total{strategy="${s}"})`, w.guest_impact_total_s],
          [`sum(migsim_host_cpu_seconds_total{strategy="${s}",component!="migration_thread"})`, t.host_cpu_s],
          [`sum(migsim_vcpu_stall_seconds_total{strategy="${s}"})`, t.vcpu_stall_s],
          [`sum(migsim_dirty_log_disable_seconds_total{strategy="${s}"})`, t.disable_s],
          [`sum(migsim_remote_tlb_flushes_total{strategy="${s}"})`, t.tlb_flushes],
          [`sum(migsim_page_faults_total{strategy="${s}"})`, t.page_faults],
          [`sum(migsim_page_faults_total{strategy="${s}",fault_kind="refault"})`, t.refaults],
          // Host CPU taken from guests, added when the run ends.
          [`sum(migsim_host_cpu_contention_seconds_total{strategy="${s}"})`, summary.host_cpu_ledger!.contention_s[s]],
        );
      }
      pairs.push(['sum(migsim_host_cpu_contention_seconds_total{strategy="in_effect"})', summary.host_cpu_ledger!.contention_s.in_effect]);
      let at = 0;
      let mismatches: string[] = [];
      const compare = async (): Promise<boolean> => {
        at = Date.now() / 1000;
        mismatches = [];
        for (const [expr, want] of pairs) {
          const got = await scalar(base, expr, at);
          if (!close(got, want)) mismatches.push(`${expr} = ${got}, summary.json has ${want}`);
        }
        return mismatches.length === 0;
      };
      await until('the final totals in Prometheus', 60_000, compare).catch(() => undefined);
      expect(mismatches).toEqual([]);
      expect(summary.strategies.zap.host_cpu_s).toBeGreaterThan(summary.strategies.promote.host_cpu_s);
      const saved = await scalar(base, 'sum(migsim_host_cpu_seconds_total{strategy="zap"}) - sum(migsim_host_cpu_seconds_total{strategy="promote"})', at);
      expect(close(saved, summary.promote_saving_vs_zap.host_cpu_s), `saving ${saved} vs ${summary.promote_saving_vs_zap.host_cpu_s}`).toBe(true);
      // Every query of every panel of every dashboard returns finite data.
      const queries = Object.entries(generatedFiles())
        .filter(([path]) => path.startsWith('dashboards/generated/'))
        .flatMap(([, text]) => dashboardQueries(JSON.parse(text) as DashboardJson));
      const empty: string[] = [];
      for (const q of queries) {
        const r = await query(base, q.expr.replaceAll('$__rate_interval', '5m'), at);
        const bad = r.length === 0 || r.some((x) => !Number.isFinite(Number(x.value[1])));
        if (bad) empty.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${q.expr} -> ${JSON.stringify(r.map((x) => x.value[1]))}`);
      }
      expect(empty).toEqual([]);
      expect(queries.length).toBeGreaterThan(15);
    } finally {
      await queue.close();
      conn.disconnect();
    }
  }, 240_000);
});
