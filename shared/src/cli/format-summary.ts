import { join } from 'node:path';
import type { RunSummary } from '../cluster/report/run-summary.js';
import type { RegionSummary } from '../cluster/region/region-summary.js';

/** The few lines a person wants after a run. */
export function formatSummaryLines(s: RunSummary, outDir: string): string {
  const m = s.migrations;
  const e = s.strategy_in_effect;
  const p = s.strategies.promote;
  const w = s.whole_cost.in_effect;
  const share = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)} %`);
  return [
    `${s.scenario} (seed ${s.seed}): ${s.jobs} jobs, ${m.total} migrations (${m.completed} completed, ${m.cancelled} cancelled, ${m.failed} failed, ${m.active} still running), ${s.probes} dirty-rate probes`,
    s.makespan_s === null ? '' : `evacuation makespan: ${(s.makespan_s / 3600).toFixed(2)} h`,
    `dirty logging's MMU work under the strategies in effect: disable ${e.disable_s.toFixed(1)} s, host CPU ${e.host_cpu_s.toFixed(1)} s, vCPU stall ${e.vcpu_stall_s.toFixed(1)} s; had every host promoted in place: disable ${p.disable_s.toFixed(1)} s, host CPU ${p.host_cpu_s.toFixed(1)} s, vCPU stall ${p.vcpu_stall_s.toFixed(1)} s`,
    `whole cost under the strategies in effect: host CPU ${w.host_cpu_total_s.toFixed(1)} s (the disable ${share(w.disable_share.host_cpu)}), guest time lost ${w.guest_impact_total_s.toFixed(1)} vCPU-s (the disable ${share(w.disable_share.guest_impact)})`,
    `digest ${s.digest}`,
    `wrote ${join(outDir, 'summary.json')}, ${join(outDir, 'jobs.csv')}, ${join(outDir, 'jobs.ndjson')}, ${join(outDir, 'report.html')} (${s.wall_s.toFixed(2)} s)`,
  ]
    .filter(Boolean)
    .join('\n');
}


/** The few lines after a region's run. */
export function formatRegionSummaryLines(s: RegionSummary, outDir: string): string {
  const m = s.totals.migrations;
  const p = s.totals.migration_time_s;
  return [
    `${s.scenario} (seed ${s.seed}): region of ${s.clusters.length} clusters, ${s.totals.jobs} jobs, ${m.total} migrations (${m.completed} completed, ${m.cancelled} cancelled, ${m.failed} failed, ${m.active} still running), ${s.totals.probes} dirty-rate probes`,
    s.totals.makespan_s === null ? '' : `longest cluster makespan: ${(s.totals.makespan_s / 3600).toFixed(2)} h`,
    p.count > 0 ? `migration time p50 ${p.p50?.toFixed(1)} s, p99 ${p.p99?.toFixed(1)} s (within ${(s.quantile_relative_accuracy * 100).toFixed(1)} %)` : '',
    `region digest ${s.digest}`,
    `wrote ${join(outDir, 'region-summary.json')}, ${join(outDir, 'clusters.csv')}, ${join(outDir, 'report.html')} and a folder per cluster (${s.wall_s.toFixed(2)} s)`,
  ]
    .filter(Boolean)
    .join('\n');
}
