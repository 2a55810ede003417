import type { NetworkUsage, WaveRecord } from '../fleet/fleet-run-result.js';
import type { LinkTier } from '../network/fabric.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import type { HostCpuLedger, LedgerKey } from './host-cpu-ledger.js';
import type { ReportData } from './report-series.js';
import { escapeHtml, fmt, gantt, lineChart, type Series } from './svg-charts.js';

export const TIER_COLORS: Record<LinkTier, string> = { nic: '#1f77b4', uplink: '#ff7f0e', spine: '#9467bd' };

/** Per-bin values as a step line: bin i from i × binS to (i + 1) × binS. */
function binned(values: readonly number[], binS: number, scale: number = 1): [number, number][] {
  const points: [number, number][] = values.map((v, i) => [i * binS, v * scale]);
  if (values.length > 0) points.push([values.length * binS, values[values.length - 1]! * scale]);
  return points;
}

/** Link utilisation over time per tier: the mean over the tier's links (solid) and the busiest link (dashed). */
export function linkUtilisationChart(n: NetworkUsage): string {
  const series: Series[] = n.tiers.flatMap((t) => [
    { name: `${t.tier} mean`, color: TIER_COLORS[t.tier], points: binned(t.meanUtil, n.binS) },
    { name: `${t.tier} max`, color: TIER_COLORS[t.tier], points: binned(t.maxUtil, n.binS), dashed: true },
  ]);
  return lineChart('Link utilisation over time, per tier (mean solid, busiest link dashed)', 'simulated time (s)', 'utilisation (fraction of capacity)', series);
}

/**
 * Fleet-wide host CPU migrations took from guests over time (cores: contention CPU-s per bin over the bin), per
 * strategy and under the strategies in effect, with the migrations' whole host CPU in effect for scale.
 */
export function contentionChart(l: HostCpuLedger, strategyColors: Record<DisableStrategy, string>): string {
  const keyColor = (k: LedgerKey) => (k === 'in_effect' ? '#222222' : strategyColors[k]);
  const series: Series[] = [
    { name: 'migration CPU', color: '#7f7f7f', points: binned(l.series.migration_cpu_s.in_effect, l.bin_s, 1 / l.bin_s), dashed: true },
    ...[...DISABLE_STRATEGIES, 'in_effect' as const].map((k) => ({ name: k === 'in_effect' ? 'in effect' : k, color: keyColor(k), points: binned(l.series.contention_s[k], l.bin_s, 1 / l.bin_s) })),
  ];
  return lineChart('Host CPU migrations took from guests over time, fleet-wide (cores; dashed: all migration CPU in effect)', 'simulated time (s)', 'cores taken from guests', series);
}

const RACK_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * The waves by rack: one bar per wave and rack of its hosts, from the first to the last of the wave's migrations
 * off that rack's hosts (the wave's own span when none ran from it), coloured by rack. A host's rack comes from the
 * jobs (`srcRack`, `dstRack`, gathered in {@link ReportData}) or, failing that, from the network's `hostsPerRack`.
 */
export function wavesByRackChart(waves: readonly WaveRecord[], data: Pick<ReportData, 'rackOf' | 'waveRackSpans'>, endS: number, hostsPerRack: number | null): string {
  const rackOf = data.rackOf;
  const rack = (h: number): number | null => rackOf.get(h) ?? (hostsPerRack === null ? null : Math.floor(h / hostsPerRack));
  const span = data.waveRackSpans;
  const rows: { label: string; title: string; start: number; end: number; color: string }[] = [];
  for (const w of waves) {
    const byRack = new Map<number | null, number>();
    for (const h of w.hosts) byRack.set(rack(h), (byRack.get(rack(h)) ?? 0) + 1);
    const racks = [...byRack.keys()].sort((a, b) => (a ?? -1) - (b ?? -1));
    for (const r of racks) {
      const s = r === null ? undefined : span.get(`${w.wave}/${r}`);
      const label = `w${w.wave} rack ${r ?? '?'}`;
      rows.push({ label, title: `wave ${w.wave}, rack ${r ?? '?'} (${byRack.get(r)} hosts)`, start: s?.start ?? w.startS, end: s?.end ?? w.endS ?? endS, color: r === null ? '#cccccc' : RACK_COLORS[r % RACK_COLORS.length]! });
    }
  }
  return gantt('Evacuation timeline per wave, by rack of its hosts', 'simulated time (s)', rows);
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The ledger's totals per strategy and its top hosts, as tables. */
export function ledgerTables(l: HostCpuLedger): string {
  const keys = [...DISABLE_STRATEGIES, 'in_effect' as const];
  const totals = keys
    .map((k) => {
      const m = l.migration_cpu_s[k];
      const share = l.contention_share[k];
      return `<tr><td>${escapeHtml(k === 'in_effect' ? 'in effect' : k)}</td><td>${fmt(m.source_s)}</td><td>${fmt(m.destination_s)}</td><td>${fmt(l.contention_s[k])}</td><td>${share === null ? '-' : pct(share)}</td></tr>`;
    })
    .join('');
  const top = l.top_hosts
    .map(
      (h) =>
        `<tr><td>${h.host}</td><td>${h.cores}</td><td>${fmt(h.initial_guest_demand_cores)}</td><td>${fmt(h.peak_guest_demand_cores)}</td><td>${fmt(h.migration_cpu_s.in_effect)}</td><td>${fmt(h.contention_s.in_effect)}</td><td>${fmt(h.contention_s.promote)}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>strategy</th><th>migration CPU, sources (s)</th><th>destinations (s)</th><th>contention (CPU-s)</th><th>share of migration CPU</th></tr>${totals}</table>
<p>${l.hosts_with_migrations} hosts ran migration work; on ${l.hosts_with_contention} of them it took CPU from guests under the strategies in effect.</p>
<table><tr><th>host</th><th>cores</th><th>guest demand at start (cores)</th><th>peak guest demand (cores)</th><th>migration CPU in effect (s)</th><th>contention in effect (CPU-s)</th><th>contention under promote (CPU-s)</th></tr>${top}</table>`;
}

/** The fabric's tiers: links, capacity, peak and mean utilisation. */
export function networkTable(n: NetworkUsage): string {
  const rows = n.tiers
    .map((t) => {
      const mean = t.meanUtil.length > 0 ? t.meanUtil.reduce((a, b) => a + b, 0) / t.meanUtil.length : 0;
      const peak = t.maxUtil.reduce((a, b) => Math.max(a, b), 0);
      return `<tr><td><span class="dot" style="background:${TIER_COLORS[t.tier]}"></span>${t.tier}</td><td>${t.links}</td><td>${fmt(t.capacityBytesPerS)}B/s</td><td>${pct(mean)}</td><td>${pct(peak)}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>tier</th><th>links</th><th>capacity per link</th><th>mean utilisation</th><th>peak (busiest link)</th></tr>${rows}</table>`;
}
