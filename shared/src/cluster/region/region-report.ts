import { STRATEGY_COLORS } from '../report/report-html.js';
import { escapeHtml, fmt, gantt, groupedBarChart } from '../report/svg-charts.js';
import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import type { RegionSummary } from './region-summary.js';

/** The region's report: its totals, each cluster's makespan (a bar per cluster) and a table of the clusters. */
export function regionReportHtml(s: RegionSummary): string {
  const t = s.totals;
  const m = t.migrations;
  const makespans = gantt(
    'Evacuation makespan per cluster',
    'simulated time (s)',
    s.clusters.map((c) => ({ label: c.name, start: 0, end: c.makespan_s ?? c.simulated_end_s, color: c.makespan_s === null ? '#d62728' : '#1f77b4', title: `cluster ${c.name}` })),
  );
  const cost = groupedBarChart(
    'Cost by strategy over the region (seconds)',
    'seconds',
    ['disable (ioctl)', 'vCPU stall', 'host CPU'],
    DISABLE_STRATEGIES.map((st) => ({ name: st, color: STRATEGY_COLORS[st], values: [t.strategies[st].disable_s, t.strategies[st].vcpu_stall_s, t.strategies[st].host_cpu_s] })),
  );
  const rows = s.clusters
    .map(
      (c) =>
        `<tr><td><a href="${encodeURI(c.dir)}/report.html">${escapeHtml(c.name)}</a></td><td>${c.seed}</td><td>${c.makespan_s === null ? '-' : fmt(c.makespan_s)}</td><td>${c.migrations.total}</td><td>${c.migrations.completed}</td><td>${c.migrations.cancelled}</td><td>${c.migrations.failed}</td><td>${c.migrations.active}</td><td><code>${c.digest.slice(0, 16)}…</code></td></tr>`,
    )
    .join('');
  const pct = (p: RegionSummary['totals']['migration_time_s']) => `p50 ${p.p50 === null ? '-' : fmt(p.p50)} s, p90 ${p.p90 === null ? '-' : fmt(p.p90)} s, p99 ${p.p99 === null ? '-' : fmt(p.p99)} s, max ${p.max === null ? '-' : fmt(p.max)} s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>migsim region: ${escapeHtml(s.scenario)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:0;border:1px solid #ddd;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>migsim region: ${escapeHtml(s.scenario)}</h1>
<p>Seed ${s.seed}, run <code>${escapeHtml(s.run_id)}</code>: ${s.clusters.length} clusters, ${t.jobs} jobs (${m.total} migrations: ${m.completed} completed, ${m.cancelled} cancelled, ${m.failed} failed, ${m.active} active at the horizon; ${t.probes} dirty-rate probes). Longest makespan ${t.makespan_s === null ? '-' : `${fmt(t.makespan_s)} s`}. Region digest <code>${s.digest.slice(0, 16)}…</code></p>
<p>Migration time over the region: ${pct(t.migration_time_s)}. Downtime: ${pct(t.downtime_s)}. Percentiles from merged quantile sketches, within ${(s.quantile_relative_accuracy * 100).toFixed(1)} % of the exact values.</p>
<div class="charts">${makespans}${cost}</div>
<h2>Clusters</h2>
<table><tr><th>cluster</th><th>seed</th><th>makespan (s)</th><th>migrations</th><th>completed</th><th>cancelled</th><th>failed</th><th>active</th><th>digest</th></tr>${rows}</table>
</body></html>
`;
}
