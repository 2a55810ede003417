import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import { STRATEGY_COLORS } from '../report/report-html.js';
import type { RunSummary } from '../report/run-summary.js';
import { escapeHtml, fmt, groupedBarChart, lineChart, type Series } from '../report/svg-charts.js';
import type { SweepRow } from './run-sweep.js';
import type { SweepSet } from './sweep-grid.js';

/** The planner's columns: the strategies in effect on the hosts, then every disable strategy had every host used it. */
export const PLANNER_STRATEGIES = ['in effect', ...DISABLE_STRATEGIES] as const;
export type PlannerStrategy = (typeof PLANNER_STRATEGIES)[number];

const wholeOf = (s: RunSummary, k: PlannerStrategy) => (k === 'in effect' ? s.whole_cost.in_effect : s.whole_cost.strategies[k]);

/** The run's guest impact under a strategy (vCPU-s lost by guests, over all its jobs) per migration; null without migrations. */
export function guestImpactPerMigration(s: RunSummary, k: PlannerStrategy): number | null {
  return s.migrations.total > 0 ? wholeOf(s, k).guest_impact_total_s / s.migrations.total : null;
}

/** Waves that had not ended when the run stopped (the maintenance did not finish within the horizon). */
export const unfinishedWaves = (s: RunSummary): number => s.waves.filter((w) => w.end_s === null).length;

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const t = String(v);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * `sweep.csv`: one row per grid point and seed, in the grid's order. Columns: each `--set` by its path (the value
 * as given), seed, run id, the strategies in effect, makespan, unfinished waves, migrations by outcome, downtime
 * p50/p99, the whole cost (guest impact in vCPU-s, host CPU in s) under the strategies in effect and under each
 * strategy, and the run digest. No wall-clock column: the same sweep gives the same file, embedded or distributed.
 */
export function sweepCsv(rows: readonly SweepRow[], sets: readonly SweepSet[]): string {
  const header = [
    ...sets.map((s) => s.name),
    'seed',
    'run_id',
    'strategy_in_effect',
    'makespan_s',
    'unfinished_waves',
    'migrations',
    'completed',
    'cancelled',
    'failed',
    'active',
    'downtime_p50_s',
    'downtime_p99_s',
    'guest_impact_s',
    'host_cpu_s',
    ...DISABLE_STRATEGIES.flatMap((s) => [`${s}_guest_impact_s`, `${s}_host_cpu_s`]),
    'digest',
  ];
  const lines = rows.map((r) => {
    const s = r.summary;
    const m = s.migrations;
    return [
      ...r.point.settings.map((x) => x.text),
      r.point.seed,
      r.point.runId,
      r.strategyInEffect,
      s.makespan_s,
      unfinishedWaves(s),
      m.total,
      m.completed,
      m.cancelled,
      m.failed,
      m.active,
      s.downtime_s.p50,
      s.downtime_s.p99,
      s.whole_cost.in_effect.guest_impact_total_s,
      s.whole_cost.in_effect.host_cpu_total_s,
      ...DISABLE_STRATEGIES.flatMap((k) => [s.whole_cost.strategies[k].guest_impact_total_s, s.whole_cost.strategies[k].host_cpu_total_s]),
      s.digest,
    ]
      .map(csvCell)
      .join(',');
  });
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

export interface PlannerLimits {
  /** The maintenance window, s; undefined: no limit. */
  readonly windowS?: number | undefined;
  /** Guest impact allowed per migration, vCPU-s; undefined: no limit. */
  readonly impactBudget?: number | undefined;
}

/** One combination of settings in the planner's table, over its seeds (the worst seed counts). */
export interface PlannerEntry {
  readonly settings: SweepRow['point']['settings'];
  readonly seeds: number;
  readonly strategyInEffect: string;
  /** The longest makespan over the seeds; null when a seed's maintenance did not finish. */
  readonly makespanS: number | null;
  readonly withinWindow: boolean;
  /** Per strategy: the largest guest impact per migration over the seeds, and whether window and budget both hold. */
  readonly strategies: Record<PlannerStrategy, { readonly impactPerMigration: number | null; readonly withinBudget: boolean; readonly fits: boolean }>;
}

/**
 * The planner's question: for each combination of settings, does the maintenance finish within the window
 * (makespan ≤ window, every wave ended) and stay within the guest-impact budget (vCPU-s per migration) under each
 * strategy? Over several seeds, a combination passes only if its worst seed does.
 */
export function plannerTable(rows: readonly SweepRow[], limits: PlannerLimits): PlannerEntry[] {
  const byCombo = new Map<number, SweepRow[]>();
  for (const r of rows) byCombo.set(r.point.combo, [...(byCombo.get(r.point.combo) ?? []), r]);
  return [...byCombo.values()].map((rs) => {
    const finished = rs.every((r) => unfinishedWaves(r.summary) === 0 && r.summary.makespan_s !== null);
    const makespanS = finished ? Math.max(...rs.map((r) => r.summary.makespan_s!)) : null;
    const withinWindow = makespanS !== null && (limits.windowS === undefined || makespanS <= limits.windowS);
    const strategies = Object.fromEntries(
      PLANNER_STRATEGIES.map((k) => {
        const xs = rs.map((r) => guestImpactPerMigration(r.summary, k));
        const impact = xs.every((x) => x !== null) ? Math.max(...(xs as number[])) : null;
        const withinBudget = limits.impactBudget === undefined || (impact ?? 0) <= limits.impactBudget;
        return [k, { impactPerMigration: impact, withinBudget, fits: withinWindow && withinBudget }];
      }),
    ) as PlannerEntry['strategies'];
    return { settings: rs[0]!.point.settings, seeds: rs.length, strategyInEffect: [...new Set(rs.map((r) => r.strategyInEffect))].join('/'), makespanS, withinWindow, strategies };
  });
}

const hours = (s: number | null): string => (s === null ? 'unfinished' : `${(s / 3600).toFixed(2)} h`);
const mark = (ok: boolean): string => (ok ? '✓' : '✗');
const impactText = (x: number | null): string => (x === null ? '-' : x.toFixed(1));

/** Short column names for the settings: the last key of each path, the whole path when two share it. */
function settingColumns(sets: readonly SweepSet[]): string[] {
  const last = sets.map((s) => s.name.split(/[.[]/).pop()!.replace(/\]$/, ''));
  return last.map((l, i) => (last.filter((x) => x === l).length > 1 ? sets[i]!.name : l));
}

function limitsText(limits: PlannerLimits): string {
  const w = limits.windowS === undefined ? 'no maintenance window' : `maintenance window ${(limits.windowS / 3600).toFixed(2)} h`;
  const b = limits.impactBudget === undefined ? 'no guest-impact budget' : `guest-impact budget ${limits.impactBudget} vCPU-s per migration`;
  return `${w}, ${b}`;
}

/**
 * The planner's table as text: one row per combination of settings; the makespan and ✓/✗ for the window; then per
 * strategy the guest impact per migration (vCPU-s) and ✓ when both the window and the budget hold.
 */
export function formatPlannerTable(entries: readonly PlannerEntry[], sets: readonly SweepSet[], limits: PlannerLimits): string {
  const head = [...settingColumns(sets), 'seeds', 'kernel strategy', 'makespan', 'window', ...PLANNER_STRATEGIES];
  const body = entries.map((e) => [
    ...e.settings.map((s) => s.text),
    String(e.seeds),
    e.strategyInEffect,
    hours(e.makespanS),
    mark(e.withinWindow),
    ...PLANNER_STRATEGIES.map((k) => `${impactText(e.strategies[k].impactPerMigration)} ${mark(e.strategies[k].fits)}`),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    `Which settings fit: ${limitsText(limits)}; worst seed of each row.`,
    'Strategy columns: guest impact per migration (vCPU-s) under that disable strategy ("in effect": the hosts\' own); ✓ = within the window and the budget.',
    line(head),
    ...body.map(line),
  ].join('\n');
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A metric against the `k`-th `--set`: one line per combination of the other settings (and the strategies in
 * effect), the mean over seeds; bars by value when the values are not all numbers.
 */
function chartAgainst(rows: readonly SweepRow[], sets: readonly SweepSet[], k: number, title: string, yLabel: string, metric: (s: RunSummary) => number | null): string {
  const set = sets[k]!;
  const numeric = set.values.every((v) => typeof v === 'number');
  const groups = new Map<string, Map<number, number[]>>();
  for (const r of rows) {
    const others = r.point.settings.filter((_, i) => i !== k).map((s) => `${s.name.split('.').pop()}=${s.text}`);
    const label = [r.strategyInEffect, ...others].join(', ');
    const v = metric(r.summary);
    if (v === null) continue;
    const g = groups.get(label) ?? new Map<number, number[]>();
    const at = set.valueTexts.indexOf(r.point.settings[k]!.text);
    g.set(at, [...(g.get(at) ?? []), v]);
    groups.set(label, g);
  }
  const entries = [...groups.entries()];
  const colorOf = (label: string, i: number): string => (entries.length <= DISABLE_STRATEGIES.length ? STRATEGY_COLORS[label as keyof typeof STRATEGY_COLORS] : undefined) ?? PALETTE[i % PALETTE.length]!;
  if (numeric) {
    const series: Series[] = entries.map(([label, g], i) => ({
      name: label,
      color: colorOf(label, i),
      points: [...g.entries()].map(([at, vs]): [number, number] => [set.values[at] as number, mean(vs)]).sort((a, b) => a[0] - b[0]),
    }));
    return lineChart(title, set.name, yLabel, series, false);
  }
  return groupedBarChart(
    title,
    yLabel,
    set.valueTexts,
    entries.map(([label, g], i) => ({ name: label, color: colorOf(label, i), values: set.valueTexts.map((_, at) => (g.has(at) ? mean(g.get(at)!) : 0)) })),
  );
}

/** `sweep.html`: the planner's table, charts of makespan and guest impact against the swept settings, every run. Self-contained. */
export function sweepHtml(scenario: string, rows: readonly SweepRow[], sets: readonly SweepSet[], entries: readonly PlannerEntry[], limits: PlannerLimits): string {
  const cols = settingColumns(sets);
  const plannerRows = entries
    .map(
      (e) =>
        `<tr>${e.settings.map((s) => `<td>${escapeHtml(s.text)}</td>`).join('')}<td>${e.seeds}</td><td>${escapeHtml(e.strategyInEffect)}</td><td>${hours(e.makespanS)}</td><td class="${e.withinWindow ? 'ok' : 'no'}">${mark(e.withinWindow)}</td>${PLANNER_STRATEGIES.map((k) => {
          const c = e.strategies[k];
          return `<td class="${c.fits ? 'ok' : 'no'}">${impactText(c.impactPerMigration)} ${mark(c.fits)}</td>`;
        }).join('')}</tr>`,
    )
    .join('\n');
  const charts: string[] = [];
  const makespanH = (s: RunSummary) => (s.makespan_s === null ? null : s.makespan_s / 3600);
  const impact = (s: RunSummary) => guestImpactPerMigration(s, 'in effect');
  if (sets.length > 0) charts.push(chartAgainst(rows, sets, 0, `Makespan against ${sets[0]!.name}`, 'makespan (h)', makespanH));
  if (sets.length > 1) charts.push(chartAgainst(rows, sets, 1, `Guest impact per migration against ${sets[1]!.name}`, 'vCPU-s per migration', impact));
  if (sets.length > 0) charts.push(chartAgainst(rows, sets, 0, `Guest impact per migration against ${sets[0]!.name}`, 'vCPU-s per migration', impact));
  if (sets.length > 1) charts.push(chartAgainst(rows, sets, 1, `Makespan against ${sets[1]!.name}`, 'makespan (h)', makespanH));
  if (entries.length <= 24) {
    charts.push(
      groupedBarChart(
        'Guest impact per migration under each disable strategy (worst seed)',
        'vCPU-s per migration',
        entries.map((e) => e.settings.map((s) => s.text).join(', ') || '(base)'),
        DISABLE_STRATEGIES.map((k) => ({ name: k, color: STRATEGY_COLORS[k], values: entries.map((e) => e.strategies[k].impactPerMigration ?? 0) })),
      ),
    );
  }
  const runRows = rows
    .map((r) => {
      const s = r.summary;
      return `<tr>${r.point.settings.map((x) => `<td>${escapeHtml(x.text)}</td>`).join('')}<td>${r.point.seed}</td><td>${escapeHtml(r.strategyInEffect)}</td><td>${hours(unfinishedWaves(s) === 0 ? s.makespan_s : null)}</td><td>${s.migrations.total}</td><td>${s.migrations.completed}</td><td>${s.migrations.cancelled}</td><td>${s.migrations.failed}</td><td>${s.downtime_s.p50 === null ? '-' : fmt(s.downtime_s.p50)}</td><td>${s.downtime_s.p99 === null ? '-' : fmt(s.downtime_s.p99)}</td><td>${fmt(s.whole_cost.in_effect.guest_impact_total_s)}</td><td>${fmt(s.whole_cost.in_effect.host_cpu_total_s)}</td><td><code>${s.digest.slice(0, 12)}</code></td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>migsim sweep: ${escapeHtml(scenario)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}
td.ok{background:#e8f5e9}td.no{background:#fdecea}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:0;border:1px solid #ddd;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>migsim sweep: ${escapeHtml(scenario)}</h1>
<p>${rows.length} runs: ${sets.length > 0 ? sets.map((s) => `<code>${escapeHtml(s.name)}</code> ∈ {${s.valueTexts.map(escapeHtml).join(', ')}}`).join(' × ') : 'the scenario as it is'}, ${entries[0]?.seeds ?? 0} seed(s) each.</p>
<h2>Which settings fit</h2>
<p>${escapeHtml(limitsText(limits))}. Makespan: the end of the last maintenance wave (the worst seed); ✓ when every wave ended within the window. Strategy columns: the guest impact per migration (vCPU-s lost by guests over the run, all jobs, divided by its migrations) under that disable strategy, the hosts' own (“in effect”) or had every host used it; ✓ when the window and the budget both hold.</p>
<table><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}<th>seeds</th><th>kernel strategy</th><th>makespan</th><th>window</th>${PLANNER_STRATEGIES.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr>
${plannerRows}</table>
<h2>Charts</h2>
<p>Lines: the mean over seeds, one per combination of the other settings (with the kernel's strategy in effect).</p>
<div class="charts">${charts.join('\n')}</div>
<h2>Every run</h2>
<table><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}<th>seed</th><th>kernel strategy</th><th>makespan</th><th>migrations</th><th>completed</th><th>cancelled</th><th>failed</th><th>downtime p50 (s)</th><th>downtime p99 (s)</th><th>guest impact (vCPU-s)</th><th>host CPU (s)</th><th>digest</th></tr>
${runRows}</table>
</body></html>
`;
}
