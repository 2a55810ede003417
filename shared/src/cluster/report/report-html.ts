import type { JobRecord, NetworkUsage, WaveRecord } from '../fleet/fleet-run-result.js';
import { contentionChart, ledgerTables, linkUtilisationChart, networkTable, wavesByRackChart } from './fleet-charts.js';
import type { HostCpuLedger } from './host-cpu-ledger.js';
import { MAX_HISTOGRAM_SAMPLE, reportDataOf, type ReportData } from './report-series.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { GUEST_IMPACT_COMPONENTS, HOST_CPU_COMPONENTS, type GuestImpactComponent, type HostCpuComponent } from '../../migration/job/whole-cost.js';
import type { RunSummary, WholeCostTotals } from './run-summary.js';
import { escapeHtml, fmt, gantt, groupedBarChart, lineChart, logHistogram, stackedBarChart, type Series } from './svg-charts.js';

export const STRATEGY_COLORS: Record<DisableStrategy, string> = {
  'rmap-zap': '#9467bd',
  'zap-leaf': '#d62728',
  zap: '#ff7f0e',
  'zap-batched': '#1f77b4',
  promote: '#2ca02c',
};

/** Colours of the whole cost's components: the disable's in reds and oranges. */
const HOST_CPU_COLORS: Record<HostCpuComponent, string> = {
  migration_thread: '#1f77b4',
  dirty_tracking: '#17becf',
  enable_split: '#9467bd',
  disable: '#d62728',
};
const GUEST_IMPACT_COLORS: Record<GuestImpactComponent, string> = {
  downtime: '#7f7f7f',
  ept_4k: '#bcbd22',
  throttling: '#8c564b',
  dirty_tracking: '#17becf',
  flush_stalls: '#aec7e8',
  bql_stall: '#c5b0d5',
  postcopy_faults: '#e377c2',
  disable_flush_stalls: '#ff9896',
  refaults: '#d62728',
  disable_bql_stall: '#ff7f0e',
};

const pctText = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)} %`);

/** The whole cost by component per strategy (and under the strategies in effect), the disable's share above each bar. */
function wholeCostCharts(summary: RunSummary): string {
  const columns: [string, WholeCostTotals][] = [...DISABLE_STRATEGIES.map((s): [string, WholeCostTotals] => [s, summary.whole_cost.strategies[s]]), ['in effect', summary.whole_cost.in_effect]];
  const names = columns.map(([n]) => n);
  const host = stackedBarChart(
    'Whole host CPU by component, per strategy (seconds)',
    'host CPU (s)',
    names,
    HOST_CPU_COMPONENTS.map((c) => ({ name: c, color: HOST_CPU_COLORS[c], values: columns.map(([, t]) => t.host_cpu_s[c]) })),
    columns.map(([, t]) => `disable ${pctText(t.disable_share.host_cpu)}`),
  );
  const guest = stackedBarChart(
    'Guest impact by component, per strategy (vCPU-seconds)',
    'vCPU time lost (s)',
    names,
    GUEST_IMPACT_COMPONENTS.map((c) => ({ name: c, color: GUEST_IMPACT_COLORS[c], values: columns.map(([, t]) => t.guest_impact_s[c]) })),
    columns.map(([, t]) => `disable ${pctText(t.disable_share.guest_impact)}`),
  );
  return `${host}${guest}`;
}

/** Cumulative vCPU stall seconds over simulated time, per strategy (each job adds its stall when it ends). */
function cumulativeStall(data: ReportData): Series[] {
  return DISABLE_STRATEGIES.map((s) => ({ name: s, color: STRATEGY_COLORS[s], points: data.stall[s] }));
}

/**
 * Fraction of the fleet's VM memory mapped huge over time, per strategy, in the data's time bins. A disable that
 * zaps takes away the share of a VM's huge pages it zapped (all of them for the zap strategies, the bail-outs for
 * promote) until the refaults bring 99 % back (never, if the workload does not touch them); a later disable of the
 * same VM replaces the earlier loss. Each change is drawn at the start of its bin.
 */
function hugeCoverage(data: ReportData, fleetRamBytes: number, endS: number): Series[] {
  return DISABLE_STRATEGIES.map((s) => {
    let lost = 0;
    const points: [number, number][] = [[0, 1]];
    data.coverageLost[s].forEach((d, i) => {
      const t = i * data.coverageBinS;
      if (d === 0 || t > endS) return;
      points.push([t, 1 - lost / fleetRamBytes]);
      lost += d;
      points.push([t, 1 - lost / fleetRamBytes]);
    });
    points.push([endS, 1 - lost / fleetRamBytes]);
    return { name: s, color: STRATEGY_COLORS[s], points };
  });
}

/** What the report draws beyond the summary and the jobs, when the caller has it. */
export interface ReportExtras {
  /** The host CPU ledger: totals, top hosts and the contention chart. */
  readonly ledger?: HostCpuLedger | null;
  /** The fabric's link utilisation (`FleetRunResult.network`): a table and a chart per tier. */
  readonly network?: NetworkUsage | null;
  /** The waves with their hosts (`FleetRunResult.waves`), for the timeline by rack. */
  readonly waves?: readonly WaveRecord[];
}

/**
 * A self-contained HTML report: tables and inline SVG charts, readable offline. The charts come from bounded data
 * ({@link ReportData}, built as records arrive); a list of records is turned into it here.
 */
export function reportHtml(summary: RunSummary, jobsOrData: readonly JobRecord[] | ReportData, fleetRamBytes: number, extras: ReportExtras = {}): string {
  const data = Array.isArray(jobsOrData) ? reportDataOf(jobsOrData as readonly JobRecord[]) : (jobsOrData as ReportData);
  const strategyRows = DISABLE_STRATEGIES.map((s) => {
    const t = summary.strategies[s];
    return `<tr><td><span class="dot" style="background:${STRATEGY_COLORS[s]}"></span>${s}</td><td>${fmt(t.disable_s)}</td><td>${fmt(t.vcpu_stall_s)}</td><td>${fmt(t.host_cpu_s)}</td><td>${fmt(t.tlb_flushes)}</td><td>${fmt(t.page_faults)}</td><td>${fmt(t.refaults)}</td></tr>`;
  }).join('');
  const saving = summary.promote_saving_vs_zap;
  const wholeRows = [...DISABLE_STRATEGIES.map((s): [string, WholeCostTotals] => [s, summary.whole_cost.strategies[s]]), ['in effect', summary.whole_cost.in_effect] as [string, WholeCostTotals]]
    .map(
      ([n, t]) =>
        `<tr><td>${escapeHtml(n)}</td><td>${fmt(t.host_cpu_total_s)}</td><td>${fmt(t.disable_host_cpu_s)}</td><td>${pctText(t.disable_share.host_cpu)}</td><td>${fmt(t.guest_impact_total_s)}</td><td>${fmt(t.disable_guest_impact_s)}</td><td>${pctText(t.disable_share.guest_impact)}</td></tr>`,
    )
    .join('');
  const costChart = groupedBarChart(
    'Cost by strategy, summed over all jobs (seconds)',
    'seconds',
    ['disable (ioctl)', 'vCPU stall', 'host CPU'],
    DISABLE_STRATEGIES.map((s) => ({
      name: s,
      color: STRATEGY_COLORS[s],
      values: [summary.strategies[s].disable_s, summary.strategies[s].vcpu_stall_s, summary.strategies[s].host_cpu_s],
    })),
  );
  const stallChart = lineChart('Cumulative vCPU stall over simulated time', 'simulated time (s)', 'vCPU stall (s)', cumulativeStall(data));
  const disableChart = logHistogram(
    `Disable time per job (jobs whose disable ran on the source${Object.values(data.disableSample).some((v) => v.length >= MAX_HISTOGRAM_SAMPLE) ? `; a sample of up to ${MAX_HISTOGRAM_SAMPLE} per strategy` : ''})`,
    'disable time (s, log scale)',
    DISABLE_STRATEGIES.map((s) => ({
      name: s,
      color: STRATEGY_COLORS[s],
      values: data.disableSample[s],
    })),
  );
  const waveChart =
    summary.waves.length > 0
      ? gantt(
          'Evacuation timeline per wave',
          'simulated time (s)',
          summary.waves.map((w) => ({ label: `wave ${w.wave}`, start: w.start_s, end: w.end_s ?? summary.simulated_end_s, color: w.stuck_vms > 0 ? '#d62728' : '#1f77b4' })),
        )
      : '<p>No maintenance waves in this scenario.</p>';
  const network = extras.network ?? null;
  const rackChart = extras.waves && extras.waves.length > 0 ? wavesByRackChart(extras.waves, data, summary.simulated_end_s, network?.hostsPerRack ?? null) : '';
  const ledger = extras.ledger ?? null;
  const ledgerSection = ledger
    ? `<h2>Host CPU: what migrations took from guests</h2>
<p>Per host: the guests' demand (vCPUs × utilisation, the VMs following completed migrations) against its cores; migration CPU on the source (the whole host CPU) and on the destination (the receive side, assumed as costly as the send thread), spread over each job's span. Contention is the migration CPU beyond the cores the guests left idle: CPU-seconds taken from guests. Bins of ${fmt(ledger.bin_s)} s.</p>
${ledgerTables(ledger)}
<div class="charts">${contentionChart(ledger, STRATEGY_COLORS)}</div>`
    : '';
  const networkSection = network
    ? `<h2>The fabric</h2>
<p>${network.racks} racks of ${network.hostsPerRack} hosts; utilisation of each tier's links by migrations (tenant traffic not counted), in bins of ${fmt(network.binS)} s.</p>
${networkTable(network)}
<div class="charts">${linkUtilisationChart(network)}</div>`
    : '';
  const coverageChart = lineChart('Huge-page coverage of VM memory over time', 'simulated time (s)', 'fraction mapped huge', hugeCoverage(data, fleetRamBytes, summary.simulated_end_s), false);
  const pct = (p: RunSummary['migration_time_s']) => `${p.count} jobs; p50 ${p.p50 === null ? '-' : fmt(p.p50)} s, p90 ${p.p90 === null ? '-' : fmt(p.p90)} s, p99 ${p.p99 === null ? '-' : fmt(p.p99)} s, max ${p.max === null ? '-' : fmt(p.max)} s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>migsim: ${escapeHtml(summary.scenario)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:0;border:1px solid #ddd;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>migsim run: ${escapeHtml(summary.scenario)}</h1>
<p>Seed ${summary.seed}, run <code>${escapeHtml(summary.run_id)}</code>, ${summary.jobs} jobs (${summary.migrations.total} migrations, ${summary.probes} dirty-rate probes), simulated to ${fmt(summary.simulated_end_s)} s${summary.makespan_s === null ? '' : `, evacuation makespan ${fmt(summary.makespan_s)} s`}. Digest <code>${summary.digest.slice(0, 16)}…</code></p>
<h2>Migrations</h2>
<table><tr><th>outcome</th><th>completed</th><th>cancelled</th><th>failed</th><th>active at horizon</th><th>total</th></tr>
<tr><td>count</td><td>${summary.migrations.completed}</td><td>${summary.migrations.cancelled}</td><td>${summary.migrations.failed}</td><td>${summary.migrations.active}</td><td>${summary.migrations.total}</td></tr></table>
<p>Migration time: ${pct(summary.migration_time_s)}.<br>Downtime: ${pct(summary.downtime_s)}.</p>
<h2>What disabling dirty logging cost, per strategy</h2>
<p>Every job's disable is evaluated under every strategy from the same state. A completed migration never disables logging on the source (the source VM is destroyed); cancelled, aborted and failed migrations (before the job ends, holding its migration slot) and dirty-rate probes in dirty-bitmap or dirty-ring mode do; page-sampling probes never enable logging.</p>
<table><tr><th>strategy</th><th>disable (s)</th><th>vCPU stall (s)</th><th>host CPU (s)</th><th>remote TLB flushes</th><th>page faults</th><th>refaults</th></tr>${strategyRows}</table>
<p><b>promote saves ${fmt(saving.host_cpu_s)} s of host CPU over zap${saving.host_cpu_fraction === null ? '' : ` (${(saving.host_cpu_fraction * 100).toFixed(1)} %)`}</b>: ${fmt(saving.disable_s)} s of disable time and ${fmt(saving.vcpu_stall_s)} s of vCPU stall.</p>
<div class="charts">${costChart}${stallChart}${disableChart}${coverageChart}${waveChart}${rackChart}</div>
<h2>The whole cost, and the disable's share of it</h2>
<p>Host CPU (migration thread and multifd per byte, dirty tracking, enable and splits, the disable) and guest time lost (downtime of all vCPUs, 4K-EPT slowdown while logging, throttling, tracking faults, flush and BQL stalls, post-copy faults; and the disable's flush stalls, refaults and BQL stalls), summed over all jobs. Only the disable's components depend on the strategy.</p>
<table><tr><th>strategy</th><th>host CPU (s)</th><th>of which disable (s)</th><th>disable share</th><th>guest impact (vCPU-s)</th><th>of which disable (vCPU-s)</th><th>disable share</th></tr>${wholeRows}</table>
<div class="charts">${wholeCostCharts(summary)}</div>
${ledgerSection}
${networkSection}
</body></html>
`;
}
