import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { percentiles, type Percentiles, type RunSummary, type StrategyTotals } from '../report/run-summary.js';

/** One run of a load test, as the load generator saw it. */
export interface LoadRun {
  readonly run_id: string;
  readonly seed: number;
  readonly vms: number;
  /** Seconds after the load generator started that the run was submitted, and that it finished. */
  readonly submitted_at_s: number;
  readonly finished_at_s: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly migrations: number;
  readonly probes: number;
  readonly jobs: number;
  readonly digest?: string;
}

/** What a load generator reports: its runs, and totals to compare with Prometheus. */
export interface LoadgenReport {
  readonly load_id: string;
  readonly scenario: string;
  readonly vms_per_run: number;
  readonly runs: readonly LoadRun[];
  readonly wall_s: number;
  readonly migrations: number;
  readonly migrations_by_outcome: Record<'completed' | 'cancelled' | 'failed' | 'active', number>;
  readonly probes: number;
  readonly jobs: number;
  readonly migrations_per_s: number;
  readonly jobs_per_s: number;
  /** Wall time from queueing a job to the coordinator reading its result. */
  readonly job_latency_s: Percentiles;
  /** Sums of the runs' summary.json strategy totals. */
  readonly strategies: Record<DisableStrategy, StrategyTotals>;
}

/** Adds up the finished runs' summaries. */
export function loadgenReport(args: {
  loadId: string;
  scenario: string;
  vmsPerRun: number;
  runs: readonly LoadRun[];
  summaries: readonly RunSummary[];
  latenciesS: readonly number[];
  wallS: number;
}): LoadgenReport {
  const strategies = Object.fromEntries(
    DISABLE_STRATEGIES.map((s) => [s, { disable_s: 0, vcpu_stall_s: 0, tlb_flushes: 0, page_faults: 0, refaults: 0, host_cpu_s: 0 }]),
  ) as Record<DisableStrategy, StrategyTotals>;
  const byOutcome = { completed: 0, cancelled: 0, failed: 0, active: 0 };
  let probes = 0;
  let jobs = 0;
  for (const sum of args.summaries) {
    for (const s of DISABLE_STRATEGIES) {
      const t = strategies[s];
      const u = sum.strategies[s];
      t.disable_s += u.disable_s;
      t.vcpu_stall_s += u.vcpu_stall_s;
      t.tlb_flushes += u.tlb_flushes;
      t.page_faults += u.page_faults;
      t.refaults += u.refaults;
      t.host_cpu_s += u.host_cpu_s;
    }
    for (const o of ['completed', 'cancelled', 'failed', 'active'] as const) byOutcome[o] += sum.migrations[o];
    probes += sum.probes;
    jobs += sum.jobs;
  }
  const migrations = byOutcome.completed + byOutcome.cancelled + byOutcome.failed + byOutcome.active;
  const wall = Math.max(args.wallS, 1e-9);
  return {
    load_id: args.loadId,
    scenario: args.scenario,
    vms_per_run: args.vmsPerRun,
    runs: args.runs,
    wall_s: args.wallS,
    migrations,
    migrations_by_outcome: byOutcome,
    probes,
    jobs,
    migrations_per_s: migrations / wall,
    jobs_per_s: jobs / wall,
    job_latency_s: percentiles([...args.latenciesS]),
    strategies,
  };
}
