import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { FleetRunResult, JobRecord } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { SimulationMetrics } from '../../../../shared/src/cluster/observability/simulation-metrics.js';
import { reportHtml } from '../../../../shared/src/cluster/report/report-html.js';
import { jobsCsv, summarize } from '../../../../shared/src/cluster/report/run-summary.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { DISABLE_STRATEGIES } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import { migrationJobSchema, type MigrationJobInput } from '../../../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../../../shared/src/migration/job/run-migration-job.js';
import { GUEST_IMPACT_COMPONENTS, GUEST_IMPACT_OF_DISABLE, HOST_CPU_COMPONENTS, wholeCost } from '../../../../shared/src/migration/job/whole-cost.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** A completed migration, a cancelled one on a zap-leaf host, a dirty-bitmap probe, a page-sampling probe. */
function jobs(): JobRecord[] {
  const vm = { ram_bytes: 8 * GiB, vcpus: 8, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 40 * MiB } };
  const inputs: MigrationJobInput[] = [
    { vm, migration: { link_bandwidth_bytes_per_s: 1.25e9 } },
    { vm, migration: { cancel_at_s: 30 }, kernel: { strategy: 'zap-leaf' } },
    { kind: 'dirty-rate-probe', vm, probe: { mode: 'dirty-bitmap' } },
    { kind: 'dirty-rate-probe', vm },
  ];
  return inputs.map((input, serial) => {
    const result = runMigrationJob(migrationJobSchema.parse(input), DEFAULT_PROFILE);
    return { id: `r.j${serial}`, serial, purpose: input.kind === 'dirty-rate-probe' ? 'probe' : 'maintenance', wave: null, vm: serial, src: 0, dst: 1, attempt: 1, srcRack: 0, dstRack: 0, startS: 0, endS: result.total_time_s, result };
  });
}

describe('the whole cost in summary.json, jobs.csv, the metrics and report.html', () => {
  const records = jobs();
  const run: FleetRunResult = { jobs: records, waves: [], makespanS: null, endS: Math.max(...records.map((j) => j.endS)), network: null };
  const summary = summarize('fixture', 1, 'r', run, 0);

  it('summary.json sums every job under every strategy and under the strategy in effect, with the disable’s share', () => {
    for (const s of DISABLE_STRATEGIES) {
      const t = summary.whole_cost.strategies[s];
      const per = records.map((j) => wholeCost(j.result, s));
      for (const c of HOST_CPU_COMPONENTS) expect(t.host_cpu_s[c]).toBeCloseTo(per.reduce((a, w) => a + w.host_cpu[c], 0), 9);
      for (const c of GUEST_IMPACT_COMPONENTS) expect(t.guest_impact_s[c]).toBeCloseTo(per.reduce((a, w) => a + w.guest_impact[c], 0), 9);
      expect(t.disable_host_cpu_s).toBeCloseTo(t.host_cpu_s.disable, 9);
      expect(t.disable_share.host_cpu).toBeCloseTo(t.host_cpu_s.disable / t.host_cpu_total_s, 9);
      const disableGuest = GUEST_IMPACT_COMPONENTS.filter((c) => GUEST_IMPACT_OF_DISABLE[c]).reduce((a, c) => a + t.guest_impact_s[c], 0);
      expect(t.disable_share.guest_impact).toBeCloseTo(disableGuest / t.guest_impact_total_s, 9);
      // The MMU's host CPU is the whole host CPU less the migration thread.
      expect(summary.strategies[s].host_cpu_s).toBeCloseTo(t.host_cpu_total_s - t.host_cpu_s.migration_thread, 6);
    }
    const inEffect = summary.whole_cost.in_effect;
    const expected = records.reduce((a, j) => a + Object.values(wholeCost(j.result, j.result.strategy_in_effect).host_cpu).reduce((x, y) => x + y, 0), 0);
    expect(inEffect.host_cpu_total_s).toBeCloseTo(expected, 9);
    expect(summary.whole_cost.strategies['zap-leaf'].disable_share.host_cpu!).toBeGreaterThan(summary.whole_cost.strategies.promote.disable_share.host_cpu!);
  });

  it('jobs.csv has the migration thread and, per strategy, the BQL stall and the whole cost', () => {
    const [header, ...rows] = jobsCsv(records).trim().split('\n');
    const cols = header!.split(',');
    expect(cols).toContain('migration_thread_cpu_s');
    for (const s of DISABLE_STRATEGIES) for (const c of ['bql_stall_s', 'whole_host_cpu_s', 'whole_guest_impact_s']) expect(cols).toContain(`${s}_${c}`);
    const i = cols.indexOf('zap-leaf_whole_host_cpu_s');
    const w = wholeCost(records[1]!.result, 'zap-leaf');
    expect(Number(rows[1]!.split(',')[i])).toBeCloseTo(Object.values(w.host_cpu).reduce((a, b) => a + b, 0), 9);
  });

  it('migsim_host_cpu_seconds_total and migsim_guest_impact_seconds_total by component equal summary.json', async () => {
    const registry = new Registry();
    const metrics = new SimulationMetrics(registry);
    for (const j of records) metrics.record(j, 'std');
    const values = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    const host = await values('migsim_host_cpu_seconds_total');
    const guest = await values('migsim_guest_impact_seconds_total');
    for (const s of DISABLE_STRATEGIES) {
      const t = summary.whole_cost.strategies[s];
      for (const c of HOST_CPU_COMPONENTS) expect(host.find((v) => v.labels.strategy === s && v.labels.component === c)!.value).toBeCloseTo(t.host_cpu_s[c], 9);
      for (const c of GUEST_IMPACT_COMPONENTS) expect(guest.find((v) => v.labels.strategy === s && v.labels.component === c)!.value).toBeCloseTo(t.guest_impact_s[c], 9);
    }
  });

  it('report.html charts the whole cost by component per strategy with the disable’s share', () => {
    const html = reportHtml(summary, records, 4 * 8 * GiB);
    expect(html).toContain('Whole host CPU by component, per strategy');
    expect(html).toContain('Guest impact by component, per strategy');
    expect(html).toMatch(/disable \d+\.\d %/);
    for (const c of [...HOST_CPU_COMPONENTS, ...GUEST_IMPACT_COMPONENTS]) expect(html).toContain(c);
  });
});
