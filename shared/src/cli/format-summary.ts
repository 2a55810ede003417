import { join } from 'node:path';
import type { RunSummary } from '../cluster/report/run-summary.js';

/** The few lines a person wants after a run. */
export function formatSummaryLines(s: RunSummary, outDir: string): string {
  const m = s.migrations;
  const z = s.strategies.zap;
  const p = s.strategies.promote;
  return [
    `${s.scenario} (seed ${s.seed}): ${s.jobs} jobs, ${m.total} migrations (${m.completed} completed, ${m.cancelled} cancelled, ${m.failed} failed, ${m.active} still running), ${s.probes} dirty-rate probes`,
    s.makespan_s === null ? '' : `evacuation makespan: ${(s.makespan_s / 3600).toFixed(2)} h`,
    `host CPU spent disabling dirty logging: zap ${z.host_cpu_s.toFixed(1)} s, promote ${p.host_cpu_s.toFixed(1)} s; vCPU stall: zap ${z.vcpu_stall_s.toFixed(1)} s, promote ${p.vcpu_stall_s.toFixed(1)} s`,
    `digest ${s.digest}`,
    `wrote ${join(outDir, 'summary.json')}, ${join(outDir, 'jobs.csv')}, ${join(outDir, 'report.html')} (${s.wall_s.toFixed(2)} s)`,
  ]
    .filter(Boolean)
    .join('\n');
}

