import { createHash } from 'node:crypto';
import { DDSketch } from '@datadog/sketches-js';
import type { FleetRunResult, JobRecord, NetworkUsage } from '../fleet/fleet-run-result.js';
import type { LinkTier } from '../network/fabric.js';
import { ledgerTotals, type HostCpuLedger, type HostCpuLedgerTotals } from './host-cpu-ledger.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { canonicalJson } from '../../common/canonical-json.js';
import {
  GUEST_IMPACT_OF_DISABLE,
  GUEST_IMPACT_COMPONENTS,
  HOST_CPU_OF_DISABLE,
  HOST_CPU_COMPONENTS,
  wholeCost,
  type GuestImpactComponent,
  type HostCpuComponent,
} from '../../migration/job/whole-cost.js';

export interface StrategyTotals {
  disable_s: number;
  vcpu_stall_s: number;
  tlb_flushes: number;
  page_faults: number;
  refaults: number;
  host_cpu_s: number;
}

/**
 * The whole cost of the jobs under one strategy: host CPU (s) and guest time (vCPU-s) by component, totals, the
 * disable's part (the components that depend on the strategy) and its share of each total (null when it is 0).
 */
export interface WholeCostTotals {
  host_cpu_s: Record<HostCpuComponent, number>;
  host_cpu_total_s: number;
  guest_impact_s: Record<GuestImpactComponent, number>;
  guest_impact_total_s: number;
  disable_host_cpu_s: number;
  disable_guest_impact_s: number;
  disable_share: { host_cpu: number | null; guest_impact: number | null };
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface RunSummary {
  readonly scenario: string;
  readonly seed: number;
  readonly run_id: string;
  readonly migrations: Record<MigrationResult['status'] | 'total', number>;
  readonly probes: number;
  readonly strategies: Record<DisableStrategy, StrategyTotals>;
  readonly by_outcome: Record<MigrationResult['status'], Record<DisableStrategy, StrategyTotals>>;
  readonly strategy_in_effect: StrategyTotals;
  readonly promote_saving_vs_zap: { readonly disable_s: number; readonly vcpu_stall_s: number; readonly host_cpu_s: number; readonly host_cpu_fraction: number | null };
  /** The whole cost, fleet-wide: per strategy (every job under every strategy) and under the strategy in effect on each source. */
  readonly whole_cost: { readonly strategies: Record<DisableStrategy, WholeCostTotals>; readonly in_effect: WholeCostTotals };
  readonly migration_time_s: Percentiles;
  readonly downtime_s: Percentiles;
  readonly makespan_s: number | null;
  readonly simulated_end_s: number;
  readonly waves: readonly { wave: number; hosts: number; start_s: number; end_s: number | null; migrations: number; stuck_vms: number }[];
  readonly wall_s: number;
  readonly jobs: number;
  /** Host CPU as a shared resource (`host-cpu-ledger.ts`): migration CPU and contention totals, the top hosts; null when not computed. */
  readonly host_cpu_ledger: HostCpuLedgerTotals | null;
  /** The fabric's link utilisation per tier over the run; null when the run has no network usage. */
  readonly network: NetworkSummary | null;
  /** sha256 of the canonical per-job results: the run's fingerprint, the same whatever the transport. */
  readonly digest: string;
}

/** One tier of the fabric over the run: utilisation as a fraction of one link's capacity. */
export interface TierSummary {
  readonly tier: LinkTier;
  readonly links: number;
  readonly capacity_bytes_per_s: number;
  /** The busiest link in the busiest bin. */
  readonly peak_util: number;
  /** The mean over the tier's links, averaged over the run's bins. */
  readonly mean_util: number;
  /** The mean over the tier's links in the busiest bin. */
  readonly peak_mean_util: number;
}

export interface NetworkSummary {
  readonly bin_s: number;
  readonly racks: number;
  readonly hosts_per_rack: number;
  readonly tiers: readonly TierSummary[];
}

export function networkSummary(n: NetworkUsage): NetworkSummary {
  const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
  return {
    bin_s: n.binS,
    racks: n.racks,
    hosts_per_rack: n.hostsPerRack,
    tiers: n.tiers.map((t) => ({
      tier: t.tier,
      links: t.links,
      capacity_bytes_per_s: t.capacityBytesPerS,
      peak_util: max(t.maxUtil),
      mean_util: t.meanUtil.length > 0 ? t.meanUtil.reduce((a, b) => a + b, 0) / t.meanUtil.length : 0,
      peak_mean_util: max(t.meanUtil),
    })),
  };
}

const zero = (): StrategyTotals => ({ disable_s: 0, vcpu_stall_s: 0, tlb_flushes: 0, page_faults: 0, refaults: 0, host_cpu_s: 0 });

function add(t: StrategyTotals, r: MigrationResult, s: DisableStrategy): void {
  const b = r.mmu?.[s];
  if (!b) return;
  t.disable_s += b.disable_s;
  t.vcpu_stall_s += b.vcpu_stall_s;
  t.tlb_flushes += b.remote_tlb_flushes;
  t.page_faults += b.page_faults;
  t.refaults += b.page_faults_by_kind.refault ?? 0;
  t.host_cpu_s += b.host_cpu_s;
}

const zeroWhole = (): WholeCostTotals => ({
  host_cpu_s: Object.fromEntries(HOST_CPU_COMPONENTS.map((c) => [c, 0])) as Record<HostCpuComponent, number>,
  host_cpu_total_s: 0,
  guest_impact_s: Object.fromEntries(GUEST_IMPACT_COMPONENTS.map((c) => [c, 0])) as Record<GuestImpactComponent, number>,
  guest_impact_total_s: 0,
  disable_host_cpu_s: 0,
  disable_guest_impact_s: 0,
  disable_share: { host_cpu: null, guest_impact: null },
});

function addWhole(t: WholeCostTotals, r: MigrationResult, s: DisableStrategy): void {
  const w = wholeCost(r, s);
  for (const c of HOST_CPU_COMPONENTS) {
    const v = w.host_cpu[c];
    t.host_cpu_s[c] += v;
    t.host_cpu_total_s += v;
    if (HOST_CPU_OF_DISABLE[c]) t.disable_host_cpu_s += v;
  }
  for (const c of GUEST_IMPACT_COMPONENTS) {
    const v = w.guest_impact[c];
    t.guest_impact_s[c] += v;
    t.guest_impact_total_s += v;
    if (GUEST_IMPACT_OF_DISABLE[c]) t.disable_guest_impact_s += v;
  }
}

function withShares(t: WholeCostTotals): WholeCostTotals {
  t.disable_share = {
    host_cpu: t.host_cpu_total_s > 0 ? t.disable_host_cpu_s / t.host_cpu_total_s : null,
    guest_impact: t.guest_impact_total_s > 0 ? t.disable_guest_impact_s / t.guest_impact_total_s : null,
  };
  return t;
}

export function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { count: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1]! };
}

/** The canonical form of one job, what the digest covers (no wall-clock times). */
export function canonicalJob(j: JobRecord): unknown {
  return { id: j.id, purpose: j.purpose, wave: j.wave, vm: j.vm, src: j.src, dst: j.dst, attempt: j.attempt, start_s: j.startS, end_s: j.endS, result: j.result };
}

/**
 * The run's digest, built as records arrive: each record's sha256 (of its canonical JSON, {@link canonicalJob}) is
 * taken when it comes and only those 32 bytes are kept; the digest is the sha256 of the sorted list of them. The same
 * records give the same digest whatever order they arrive in.
 */
export class RunDigest {
  private hashes = Buffer.alloc(32 * 1024);
  private n = 0;

  add(j: JobRecord): void {
    if ((this.n + 1) * 32 > this.hashes.length) {
      const bigger = Buffer.alloc(this.hashes.length * 2);
      this.hashes.copy(bigger, 0, 0, this.n * 32);
      this.hashes = bigger;
    }
    createHash('sha256').update(canonicalJson(canonicalJob(j))).digest().copy(this.hashes, this.n * 32);
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** sha256 over the records' hashes in ascending byte order, hex. */
  finish(): string {
    const order = Array.from({ length: this.n }, (_, i) => i);
    const hs = this.hashes;
    order.sort((a, b) => hs.compare(hs, b * 32, b * 32 + 32, a * 32, a * 32 + 32));
    const h = createHash('sha256');
    for (const i of order) h.update(hs.subarray(i * 32, i * 32 + 32));
    return h.digest('hex');
  }
}

export function runDigest(jobs: readonly JobRecord[]): string {
  const d = new RunDigest();
  for (const j of jobs) d.add(j);
  return d.finish();
}

/** The relative accuracy of the streamed percentiles: each is within 0.5 % of the exact order statistic. */
export const QUANTILE_RELATIVE_ACCURACY = 0.005;

/**
 * What a {@link QuantileSketch} carries between processes: the DDSketch's non-empty bins as [key, count] pairs (keys
 * of its logarithmic mapping at {@link QUANTILE_RELATIVE_ACCURACY}), its count of zeros, its count and exact max.
 */
export interface QuantileSketchJson {
  readonly bins: readonly (readonly [number, number])[];
  readonly zeros: number;
  readonly count: number;
  readonly max: number | null;
}

/**
 * Percentiles from a DDSketch (relative accuracy {@link QUANTILE_RELATIVE_ACCURACY}), mergeable across clusters:
 * p50/p90/p99 are within that relative accuracy of the exact order statistic {@link percentiles} picks (the value of
 * rank ⌈p·n⌉ − 1); count and max are exact.
 */
export class QuantileSketch {
  private sketch = new DDSketch({ relativeAccuracy: QUANTILE_RELATIVE_ACCURACY });
  private n = 0;
  private top = -Infinity;

  add(x: number): void {
    this.sketch.accept(x);
    this.n++;
    if (x > this.top) this.top = x;
  }

  merge(o: QuantileSketch): void {
    if (o.n === 0) return;
    this.sketch.merge(o.sketch);
    this.n += o.n;
    this.top = Math.max(this.top, o.top);
  }

  /** The value of rank ⌈p·n⌉ − 1 (as {@link percentiles}), within the sketch's accuracy. */
  quantile(p: number): number | null {
    if (this.n === 0) return null;
    const k = Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1));
    if (k === this.n - 1) return this.top;
    // The sketch's rank is q·(n − 1), counted from 0; half a rank more lands inside rank k.
    return Math.min(this.top, this.sketch.getValueAtQuantile((k + 0.5) / (this.n - 1)));
  }

  percentiles(): Percentiles {
    if (this.n === 0) return { count: 0, p50: null, p90: null, p99: null, max: null };
    return { count: this.n, p50: this.quantile(0.5), p90: this.quantile(0.9), p99: this.quantile(0.99), max: this.top };
  }

  toJSON(): QuantileSketchJson {
    const st = this.sketch.store;
    const bins: [number, number][] = [];
    st.bins.forEach((c, i) => {
      if (c > 0) bins.push([i + st.offset, c]);
    });
    return { bins, zeros: this.sketch.zeroCount, count: this.n, max: this.n === 0 ? null : this.top };
  }

  static fromJSON(j: QuantileSketchJson): QuantileSketch {
    const q = new QuantileSketch();
    for (const [key, c] of j.bins) q.sketch.store.add(key, c);
    q.sketch.zeroCount = j.zeros;
    q.sketch.count = j.count;
    q.n = j.count;
    q.top = j.max ?? -Infinity;
    return q;
  }
}

type Outcome = MigrationResult['status'];
const OUTCOMES = ['completed', 'cancelled', 'failed', 'active'] as const;

/** What a run's summary needs beside the records: who, the run's shape (waves, end, network) and the ledger. */
export interface SummaryContext {
  readonly scenario: string;
  readonly seed: number;
  readonly runId: string;
  readonly run: Omit<FleetRunResult, 'jobs'>;
  readonly wallS: number;
  readonly ledger?: HostCpuLedger | null;
}

/**
 * The run's summary built as records arrive (`add` each record once, then `finish`): every field of
 * {@link summarize}'s, totals and counts exactly, the percentiles from {@link QuantileSketch}es (within
 * {@link QUANTILE_RELATIVE_ACCURACY}) and the digest from {@link RunDigest}. Memory: a few kilobytes of totals and
 * sketches, and 32 bytes per record for the digest. Accumulators of several runs merge (`merge`) into a region's.
 */
export class SummaryAccumulator {
  readonly migrations: RunSummary['migrations'] = { completed: 0, cancelled: 0, failed: 0, active: 0, total: 0 };
  readonly strategies = Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, zero()])) as Record<DisableStrategy, StrategyTotals>;
  readonly byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, zero()]))])) as Record<Outcome, Record<DisableStrategy, StrategyTotals>>;
  readonly inEffect = zero();
  readonly wholeByStrategy = Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, zeroWhole()])) as Record<DisableStrategy, WholeCostTotals>;
  readonly wholeInEffect = zeroWhole();
  readonly times = new QuantileSketch();
  readonly downtimes = new QuantileSketch();
  readonly digest = new RunDigest();
  probes = 0;
  jobs = 0;

  add(j: JobRecord): void {
    const r = j.result;
    this.jobs++;
    if (r.job === 'dirty-rate-probe') this.probes++;
    else {
      this.migrations[r.status]++;
      this.migrations.total++;
      this.times.add(r.total_time_s);
      if (r.downtime_s !== null) this.downtimes.add(r.downtime_s);
    }
    for (const s of DISABLE_STRATEGIES) {
      add(this.strategies[s], r, s);
      add(this.byOutcome[r.status][s], r, s);
      addWhole(this.wholeByStrategy[s], r, s);
    }
    add(this.inEffect, r, r.strategy_in_effect);
    addWhole(this.wholeInEffect, r, r.strategy_in_effect);
    this.digest.add(j);
  }

  /**
   * An accumulator holding a finished run's totals (from its summary) and, when given, its sketches: what a region
   * merges from its clusters' results. Its digest is empty (a region's digest is over its clusters' digests).
   */
  static fromSummary(s: RunSummary, sketches?: { readonly migration_time_s: QuantileSketchJson; readonly downtime_s: QuantileSketchJson }): SummaryAccumulator {
    const a = new SummaryAccumulator();
    const copy = <T>(x: T): T => structuredClone(x);
    Object.assign(a.migrations, s.migrations);
    a.probes = s.probes;
    a.jobs = s.jobs;
    for (const st of DISABLE_STRATEGIES) {
      addTotals(a.strategies[st], s.strategies[st]);
      for (const oc of OUTCOMES) addTotals(a.byOutcome[oc][st], s.by_outcome[oc][st]);
      addWholeTotals(a.wholeByStrategy[st], copy(s.whole_cost.strategies[st]));
    }
    addTotals(a.inEffect, s.strategy_in_effect);
    addWholeTotals(a.wholeInEffect, copy(s.whole_cost.in_effect));
    if (sketches) {
      a.times.merge(QuantileSketch.fromJSON(sketches.migration_time_s));
      a.downtimes.merge(QuantileSketch.fromJSON(sketches.downtime_s));
    }
    return a;
  }

  /** Adds another run's totals, counts and sketches (not its digest: a region's digest is over its clusters' digests). */
  merge(o: SummaryAccumulator): void {
    for (const k of Object.keys(this.migrations) as (keyof RunSummary['migrations'])[]) this.migrations[k] += o.migrations[k];
    this.probes += o.probes;
    this.jobs += o.jobs;
    for (const s of DISABLE_STRATEGIES) {
      addTotals(this.strategies[s], o.strategies[s]);
      for (const oc of OUTCOMES) addTotals(this.byOutcome[oc][s], o.byOutcome[oc][s]);
      addWholeTotals(this.wholeByStrategy[s], o.wholeByStrategy[s]);
    }
    addTotals(this.inEffect, o.inEffect);
    addWholeTotals(this.wholeInEffect, o.wholeInEffect);
    this.times.merge(o.times);
    this.downtimes.merge(o.downtimes);
  }

  finish(c: SummaryContext, digest: string = this.digest.finish()): RunSummary {
    const z = this.strategies.zap;
    const p = this.strategies.promote;
    const { run } = c;
    return {
      scenario: c.scenario,
      seed: c.seed,
      run_id: c.runId,
      migrations: { ...this.migrations },
      probes: this.probes,
      strategies: this.strategies,
      by_outcome: this.byOutcome,
      strategy_in_effect: this.inEffect,
      promote_saving_vs_zap: {
        disable_s: z.disable_s - p.disable_s,
        vcpu_stall_s: z.vcpu_stall_s - p.vcpu_stall_s,
        host_cpu_s: z.host_cpu_s - p.host_cpu_s,
        host_cpu_fraction: z.host_cpu_s > 0 ? (z.host_cpu_s - p.host_cpu_s) / z.host_cpu_s : null,
      },
      whole_cost: {
        strategies: Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, withShares(this.wholeByStrategy[s])])) as Record<DisableStrategy, WholeCostTotals>,
        in_effect: withShares(this.wholeInEffect),
      },
      migration_time_s: this.times.percentiles(),
      downtime_s: this.downtimes.percentiles(),
      makespan_s: run.makespanS,
      simulated_end_s: run.endS,
      waves: run.waves.map((w) => ({ wave: w.wave, hosts: w.hosts.length, start_s: w.startS, end_s: w.endS, migrations: w.migrations, stuck_vms: w.stuckVms })),
      wall_s: c.wallS,
      jobs: this.jobs,
      host_cpu_ledger: c.ledger ? ledgerTotals(c.ledger) : null,
      network: run.network === null ? null : networkSummary(run.network),
      digest,
    };
  }
}

function addTotals(t: StrategyTotals, o: StrategyTotals): void {
  for (const k of Object.keys(t) as (keyof StrategyTotals)[]) t[k] += o[k];
}

function addWholeTotals(t: WholeCostTotals, o: WholeCostTotals): void {
  for (const c of HOST_CPU_COMPONENTS) t.host_cpu_s[c] += o.host_cpu_s[c];
  for (const c of GUEST_IMPACT_COMPONENTS) t.guest_impact_s[c] += o.guest_impact_s[c];
  t.host_cpu_total_s += o.host_cpu_total_s;
  t.guest_impact_total_s += o.guest_impact_total_s;
  t.disable_host_cpu_s += o.disable_host_cpu_s;
  t.disable_guest_impact_s += o.disable_guest_impact_s;
}

/** The run's summary; `ledger` (from `hostCpuLedger`, which needs the fleet) adds its totals as `host_cpu_ledger`. */
export function summarize(scenario: string, seed: number, runId: string, run: FleetRunResult, wallS: number, ledger: HostCpuLedger | null = null): RunSummary {
  const migrations: RunSummary['migrations'] = { completed: 0, cancelled: 0, failed: 0, active: 0, total: 0 };
  const strategies = Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, zero()])) as Record<DisableStrategy, StrategyTotals>;
  const byOutcome = Object.fromEntries((['completed', 'cancelled', 'failed', 'active'] as const).map((o) => [o, Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, zero()]))])) as RunSummary['by_outcome'];
  const inEffect = zero();
  const wholeByStrategy = Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, zeroWhole()])) as Record<DisableStrategy, WholeCostTotals>;
  const wholeInEffect = zeroWhole();
  const times: number[] = [];
  const downtimes: number[] = [];
  let probes = 0;
  for (const j of run.jobs) {
    const r = j.result;
    if (r.job === 'dirty-rate-probe') probes++;
    else {
      migrations[r.status]++;
      migrations.total++;
      times.push(r.total_time_s);
      if (r.downtime_s !== null) downtimes.push(r.downtime_s);
    }
    for (const s of DISABLE_STRATEGIES) {
      add(strategies[s], r, s);
      add(byOutcome[r.status][s], r, s);
      addWhole(wholeByStrategy[s], r, s);
    }
    add(inEffect, r, r.strategy_in_effect);
    addWhole(wholeInEffect, r, r.strategy_in_effect);
  }
  const z = strategies.zap;
  const p = strategies.promote;
  return {
    scenario,
    seed,
    run_id: runId,
    migrations,
    probes,
    strategies,
    by_outcome: byOutcome,
    strategy_in_effect: inEffect,
    promote_saving_vs_zap: {
      disable_s: z.disable_s - p.disable_s,
      vcpu_stall_s: z.vcpu_stall_s - p.vcpu_stall_s,
      host_cpu_s: z.host_cpu_s - p.host_cpu_s,
      host_cpu_fraction: z.host_cpu_s > 0 ? (z.host_cpu_s - p.host_cpu_s) / z.host_cpu_s : null,
    },
    whole_cost: {
      strategies: Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, withShares(wholeByStrategy[s])])) as Record<DisableStrategy, WholeCostTotals>,
      in_effect: withShares(wholeInEffect),
    },
    migration_time_s: percentiles(times),
    downtime_s: percentiles(downtimes),
    makespan_s: run.makespanS,
    simulated_end_s: run.endS,
    waves: run.waves.map((w) => ({ wave: w.wave, hosts: w.hosts.length, start_s: w.startS, end_s: w.endS, migrations: w.migrations, stuck_vms: w.stuckVms })),
    wall_s: wallS,
    jobs: run.jobs.length,
    host_cpu_ledger: ledger === null ? null : ledgerTotals(ledger),
    network: run.network === null ? null : networkSummary(run.network),
    digest: runDigest(run.jobs),
  };
}

const CSV_BASE = [
  'id',
  'purpose',
  'wave',
  'vm',
  'src',
  'dst',
  'attempt',
  'start_s',
  'end_s',
  'status',
  'total_time_s',
  'downtime_s',
  'transferred_bytes',
  'rounds',
  'dirty_log_stop',
  'strategy_in_effect',
  'migration_thread_cpu_s',
];
/** Appended after the per-strategy columns (older readers keep their column positions). */
const CSV_TAIL = ['src_rack', 'dst_rack', 'mean_rate_bytes_per_s'] as const;
const CSV_PER = ['disable_s', 'vcpu_stall_s', 'tlb_flushes', 'page_faults', 'refaults', 'host_cpu_s', 'bql_stall_s', 'whole_host_cpu_s', 'whole_guest_impact_s'] as const;

/**
 * One row per job, the per-strategy figures side by side: the MMU's (`host_cpu_s` is MMU work only), the BQL stall
 * of the disable, and the whole cost (host CPU s, guest vCPU-s) under each strategy; then the racks of source and
 * destination and the job's mean rate on the wire (transferred bytes over its span; empty for a job of no length).
 */
export const JOBS_CSV_HEADER = [...CSV_BASE, ...DISABLE_STRATEGIES.flatMap((s) => CSV_PER.map((c) => `${s}_${c}`)), ...CSV_TAIL].join(',');

export function jobsCsv(jobs: readonly JobRecord[]): string {
  return `${JOBS_CSV_HEADER}\n${jobs.map(jobCsvRow).join('\n')}\n`;
}

/** One job's row of `jobs.csv` (no newline). */
export function jobCsvRow(j: JobRecord): string {
  const r = j.result;
  const base = [
    j.id,
    j.purpose,
    j.wave ?? '',
    j.vm,
    j.src,
    j.dst ?? '',
    j.attempt,
    j.startS,
    j.endS,
    r.status,
    r.total_time_s,
    r.downtime_s ?? '',
    r.ram.transferred_bytes,
    r.rounds,
    r.dirty_log_stop,
    r.strategy_in_effect,
    r.host_cpu?.migration_thread_s ?? '',
  ];
  const per = DISABLE_STRATEGIES.flatMap((s) => {
    const t = zero();
    add(t, r, s);
    const w = wholeCost(r, s);
    const sum = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
    const row: Record<(typeof CSV_PER)[number], number> = {
      ...t,
      bql_stall_s: r.mmu?.[s]?.guest_impact.bql_stall_s ?? 0,
      whole_host_cpu_s: sum(w.host_cpu),
      whole_guest_impact_s: sum(w.guest_impact),
    };
    return CSV_PER.map((c) => row[c]);
  });
  const span = j.endS - j.startS;
  const tail = [j.srcRack, j.dstRack ?? '', span > 0 ? r.ram.transferred_bytes / span : ''];
  return [...base, ...per, ...tail].join(',');
}
