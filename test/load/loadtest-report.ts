/** One total compared between Prometheus and the runs' summaries. */
export interface TotalsCheck {
  readonly expr: string;
  readonly prometheus: number;
  readonly runs: number;
  readonly match: boolean;
}

/** What `npm run loadtest` writes to loadtest.json (and prints last on stdout). */
export interface LoadtestReport {
  readonly command: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly config: {
    readonly workers: number;
    readonly worker_concurrency: number;
    readonly vms_per_run: number;
    readonly runs: number;
    readonly interval_s: number;
    readonly duration_s: number | null;
    readonly max_active_runs: number;
    readonly scenario: string;
  };
  readonly load_id: string;
  readonly wall_s: number;
  readonly failed_runs: number;
  readonly migrations: number;
  readonly jobs: number;
  readonly migrations_per_s: number;
  readonly jobs_per_s: number;
  /** The first run's fleet simulated in one process without queues, in the same invocation. */
  readonly baseline_embedded_jobs_per_s: number;
  readonly job_latency_s: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
  readonly redis: {
    readonly peak_memory_bytes: number;
    readonly memory_at_end_bytes: number;
    /** Highest used_memory sampled (every 0.5 s) in the first and the second half of the load. */
    readonly peak_first_half_bytes: number;
    readonly peak_second_half_bytes: number;
    readonly commands_processed: number;
    /** BullMQ's bookkeeping after the load: job hashes still stored, events stream length, keys of the queue. */
    readonly job_hashes_left: number;
    readonly events_stream_len: number;
    readonly queue_keys: number;
  };
  readonly worker_peak_rss_bytes: readonly number[];
  readonly loadgen_peak_rss_bytes: number;
  readonly prometheus: { readonly checked: boolean; readonly totals_match: boolean; readonly checks: readonly TotalsCheck[] };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const ms = (s: number | null) => (s === null ? '–' : `${(s * 1e3).toFixed(1)} ms`);

export function formatLoadtestMarkdown(r: LoadtestReport): string {
  const c = r.config;
  const lines = [
    `# migsim load test ${r.load_id}`,
    '',
    `\`${r.command}\` on ${r.machine.cpus} CPUs, Node ${r.machine.node}: ${c.workers} worker(s) × concurrency ${c.worker_concurrency}, ${c.runs} run(s) of ~${c.vms_per_run} VMs (${c.scenario})${c.duration_s !== null ? `, one every ${c.interval_s} s for ${c.duration_s} s` : ''}${c.max_active_runs > 0 ? `, at most ${c.max_active_runs} at once` : ''}.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| migrations simulated | ${r.migrations} (${r.jobs} jobs, ${r.failed_runs} failed runs) |`,
    `| wall time | ${r.wall_s.toFixed(1)} s |`,
    `| migrations per second | ${r.migrations_per_s.toFixed(0)} |`,
    `| jobs per second | ${r.jobs_per_s.toFixed(0)} (embedded baseline, one process: ${r.baseline_embedded_jobs_per_s.toFixed(0)}; ratio ${(r.jobs_per_s / r.baseline_embedded_jobs_per_s).toFixed(2)}) |`,
    `| job latency p50 / p99 / max | ${ms(r.job_latency_s.p50)} / ${ms(r.job_latency_s.p99)} / ${ms(r.job_latency_s.max)} |`,
    `| Redis peak memory | ${mib(r.redis.peak_memory_bytes)} (first half ${mib(r.redis.peak_first_half_bytes)}, second half ${mib(r.redis.peak_second_half_bytes)}, at the end ${mib(r.redis.memory_at_end_bytes)}) |`,
    `| queue bookkeeping left | ${r.redis.job_hashes_left} job hashes, events stream ${r.redis.events_stream_len} entries, ${r.redis.queue_keys} keys |`,
    `| worker peak RSS | ${r.worker_peak_rss_bytes.map(mib).join(', ')} |`,
    `| load generator peak RSS | ${mib(r.loadgen_peak_rss_bytes)} |`,
    `| Prometheus totals = runs' summaries | ${r.prometheus.checked ? (r.prometheus.totals_match ? 'yes' : 'NO') : 'not checked'} (${r.prometheus.checks.length} totals) |`,
    '',
  ];
  const bad = r.prometheus.checks.filter((x) => !x.match);
  if (bad.length > 0) {
    lines.push('Totals that differ:', '', '| query | Prometheus | runs |', '|---|---|---|');
    for (const b of bad) lines.push(`| \`${b.expr}\` | ${b.prometheus} | ${b.runs} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
