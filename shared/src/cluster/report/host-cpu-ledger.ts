import type { Fleet } from '../fleet/build-fleet.js';
import type { JobRecord } from '../fleet/fleet-run-result.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { HOST_CPU_COMPONENTS, wholeCost } from '../../migration/job/whole-cost.js';

/**
 * The host CPU ledger: host CPU as a shared resource. Each host has `cores`; its guests demand
 * Σ vcpus × utilisation (the share of their vCPUs' time in guest mode); migrations add their host CPU on top. What
 * the migrations need beyond the cores the guests leave idle is taken from the guests: that is the contention.
 *
 * Where a job's host CPU runs (the whole cost's components, `whole-cost.ts`):
 * - the source runs all of it: the migration thread / multifd send channels (or a probe's hashing), dirty
 *   tracking, the enable and splits, the disable;
 * - the destination runs QEMU's receive side (the incoming migration coroutine / multifd receive threads: read the
 *   socket, copy or zero-fill pages). ASSUMPTION, no source: it costs the same as the send side's
 *   `migration_thread` component (bytes on the wire × the same ns per byte). Probes have no destination.
 *
 * Each job's CPU on a host is spread uniformly over [startS, endS] (a job of zero length adds to the migration CPU
 * and never to the contention). Guest demand follows the VMs: the initial placement, then each completed
 * migration moves its VM from source to destination at its end (with `applyMoves` false, the initial placement
 * holds throughout). Hosts' failures and guests' downtime do not change the demand (assumptions).
 *
 * Caveat: part of `dirty_tracking` and of `disable` is vCPU-thread time (PML-full exits, write-protection faults,
 * refaults), which overlaps the guests' own demand; counting it as migration work on top of that demand overstates
 * the contention by that overlap.
 *
 * The sweep is exact per host (piecewise constant between job starts, ends and moves); bins only aggregate.
 */

/** A ledger column: each disable strategy applied to every job (the paired counterfactual), and the strategy in effect on each source. */
export const LEDGER_KEYS = [...DISABLE_STRATEGIES, 'in_effect'] as const;
export type LedgerKey = (typeof LEDGER_KEYS)[number];

export interface LedgerHost {
  readonly cores: number;
}

export interface LedgerVm {
  readonly vcpus: number;
  /** Fraction of the VM's vCPUs' time in guest mode, 0..1. */
  readonly utilisation: number;
}

export interface HostCpuLedgerInput {
  /** Indexed by host id. */
  readonly hosts: readonly LedgerHost[];
  /** Indexed by VM id. */
  readonly vms: readonly LedgerVm[];
  /** Initial host of each VM (-1: not placed). */
  readonly placement: ArrayLike<number>;
  readonly jobs: readonly JobRecord[];
  /** The run's simulated end, s (the series covers at least [0, endS]). */
  readonly endS: number;
  /** Bin width, s; default 60 s, or wider (a multiple of 60 s) so that a run has at most 400 bins. */
  readonly binS?: number;
  /** Hosts listed in `topHosts`; default 10. */
  readonly topHosts?: number;
  /** Move VMs as completed migrations end (default true); false keeps the initial placement throughout. */
  readonly applyMoves?: boolean;
}

export interface LedgerMigrationCpu {
  /** On sources (the whole host CPU), s. */
  source_s: number;
  /** On destinations (the receive side, assumed equal to the send thread), s. */
  destination_s: number;
  total_s: number;
}

export interface LedgerHostRow {
  readonly host: number;
  readonly cores: number;
  readonly initial_guest_demand_cores: number;
  readonly peak_guest_demand_cores: number;
  /** Migration CPU on this host (as source and destination), s, under each key. */
  readonly migration_cpu_s: Record<LedgerKey, number>;
  readonly contention_s: Record<LedgerKey, number>;
}

export interface HostCpuLedgerTotals {
  readonly bin_s: number;
  /** Hosts that ran any migration CPU. */
  readonly hosts_with_migrations: number;
  /** Hosts where migrations took CPU from guests under the strategies in effect. */
  readonly hosts_with_contention: number;
  readonly migration_cpu_s: Record<LedgerKey, LedgerMigrationCpu>;
  /** CPU-seconds of migration work beyond the idle cores, taken from guests. */
  readonly contention_s: Record<LedgerKey, number>;
  /** contention / total migration CPU; null when there was no migration CPU. */
  readonly contention_share: Record<LedgerKey, number | null>;
  /** The hosts with the most contention under the strategies in effect (then the most migration CPU). */
  readonly top_hosts: readonly LedgerHostRow[];
}

export interface HostCpuLedger extends HostCpuLedgerTotals {
  readonly bins: number;
  /** Fleet-wide per bin (bin i covers [i × bin_s, (i + 1) × bin_s)): migration CPU-s and contention CPU-s, under each key. */
  readonly series: {
    readonly migration_cpu_s: Record<LedgerKey, readonly number[]>;
    readonly contention_s: Record<LedgerKey, readonly number[]>;
  };
}

const MAX_BINS = 400;

/** 60 s, or the smallest multiple of 60 s that keeps [0, endS] within 400 bins. */
export function ledgerBinS(endS: number): number {
  return 60 * Math.max(1, Math.ceil(endS / (MAX_BINS * 60)));
}

const K = LEDGER_KEYS.length;
const IN_EFFECT = LEDGER_KEYS.indexOf('in_effect');

function record<T>(f: (k: LedgerKey) => T): Record<LedgerKey, T> {
  return Object.fromEntries(LEDGER_KEYS.map((k) => [k, f(k)])) as Record<LedgerKey, T>;
}

/** Host CPU of one job on its source and its destination, s, under each key. */
export function jobHostCpu(j: JobRecord): { source: Float64Array; destination: Float64Array } {
  const r = j.result;
  const source = new Float64Array(K);
  const destination = new Float64Array(K);
  const recv = j.dst !== null && r.job === 'migration' ? (r.host_cpu?.migration_thread_s ?? 0) : 0;
  const sum = (s: DisableStrategy) => {
    const w = wholeCost(r, s);
    return HOST_CPU_COMPONENTS.reduce((a, c) => a + w.host_cpu[c], 0);
  };
  DISABLE_STRATEGIES.forEach((s, i) => {
    source[i] = sum(s);
    destination[i] = recv;
  });
  source[IN_EFFECT] = sum(r.strategy_in_effect);
  destination[IN_EFFECT] = recv;
  return { source, destination };
}

interface Event {
  readonly t: number;
  readonly demand: number;
  /** Change of the migration CPU rate (cores) under each key, or null. */
  readonly rate: Float64Array | null;
}

interface HostWork {
  readonly events: Event[];
  readonly cpu: Float64Array;
  /** Zero-length jobs' CPU (never contention). */
  readonly instant: Float64Array;
}

/** The ledger's inputs other than the jobs and the end. */
export type LedgerSetup = Omit<HostCpuLedgerInput, 'jobs' | 'endS'>;

/**
 * The ledger built as records arrive: `add` keeps what the ledger needs of each job (its hosts, span, VM, whether it
 * moved the VM, and its host CPU per key: 12 numbers, about 100 bytes, instead of the record), `finish` runs the
 * sweep. Memory grows with the cluster's jobs at ~100 bytes each (a region frees it after each cluster).
 */
export class HostCpuLedgerAccumulator {
  private cols = new Float64Array(ROW * 1024);
  private n = 0;

  constructor(private readonly setup: LedgerSetup) {}

  add(j: JobRecord): void {
    if ((this.n + 1) * ROW > this.cols.length) {
      const bigger = new Float64Array(this.cols.length * 2);
      bigger.set(this.cols);
      this.cols = bigger;
    }
    const { source, destination } = jobHostCpu(j);
    const o = this.n * ROW;
    const c = this.cols;
    c[o] = j.src;
    c[o + 1] = j.dst ?? -1;
    c[o + 2] = j.startS;
    c[o + 3] = j.endS;
    c[o + 4] = j.vm;
    c[o + 5] = j.result.job === 'migration' && j.result.status === 'completed' && j.dst !== null && j.dst !== j.src ? 1 : 0;
    c[o + 6] = destination[IN_EFFECT]!;
    c.set(source, o + 7);
    this.n++;
  }

  finish(endS: number): HostCpuLedger {
    return ledgerOf(this.setup, this.cols.subarray(0, this.n * ROW), this.n, endS);
  }
}

/** Numbers kept per job: src, dst (−1: none), start, end, VM, moved (0/1), destination CPU, source CPU per key. */
const ROW = 7 + K;

/** The host CPU ledger of a run: see the module's comment for what is counted where. */
export function hostCpuLedger(input: HostCpuLedgerInput): HostCpuLedger {
  const { jobs, endS, ...setup } = input;
  const acc = new HostCpuLedgerAccumulator(setup);
  for (const j of jobs) acc.add(j);
  return acc.finish(endS);
}

function ledgerOf(input: LedgerSetup, cols: Float64Array, n: number, endS: number): HostCpuLedger {
  let horizon = Math.max(endS, 0);
  for (let i = 0; i < n; i++) horizon = Math.max(horizon, cols[i * ROW + 3]!);
  const binS = input.binS ?? ledgerBinS(horizon);
  if (!(binS > 0)) throw new RangeError('binS must be positive');
  const bins = Math.max(1, Math.ceil(horizon / binS));
  const applyMoves = input.applyMoves ?? true;
  const demandOf = (vm: number) => {
    const v = input.vms[vm];
    return v ? v.vcpus * v.utilisation : 0;
  };
  const initialDemand = new Float64Array(input.hosts.length);
  for (let vm = 0; vm < input.placement.length; vm++) {
    const h = input.placement[vm]!;
    if (h >= 0 && h < input.hosts.length) initialDemand[h]! += demandOf(vm);
  }

  const work = new Map<number, HostWork>();
  const hostWork = (h: number): HostWork => {
    let w = work.get(h);
    if (!w) {
      w = { events: [], cpu: new Float64Array(K), instant: new Float64Array(K) };
      work.set(h, w);
    }
    return w;
  };
  const totals = record(() => ({ source_s: 0, destination_s: 0, total_s: 0 }));
  const addCpu = (h: number, startS: number, endS: number, cpu: Float64Array) => {
    if (h < 0 || h >= input.hosts.length || !cpu.some((x) => x > 0)) return;
    const w = hostWork(h);
    for (let k = 0; k < K; k++) w.cpu[k]! += cpu[k]!;
    const d = endS - startS;
    if (!(d > 0)) {
      for (let k = 0; k < K; k++) w.instant[k]! += cpu[k]!;
      return;
    }
    const rate = cpu.map((x) => x / d);
    w.events.push({ t: startS, demand: 0, rate }, { t: endS, demand: 0, rate: rate.map((x) => -x) });
  };
  const moves: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * ROW;
    const src = cols[o]!;
    const dst = cols[o + 1]!;
    const startS = cols[o + 2]!;
    const end = cols[o + 3]!;
    const source = cols.slice(o + 7, o + 7 + K);
    const destination = new Float64Array(K).fill(dst >= 0 ? cols[o + 6]! : 0);
    addCpu(src, startS, end, source);
    if (dst >= 0) addCpu(dst, startS, end, destination);
    LEDGER_KEYS.forEach((k, i) => {
      totals[k].source_s += source[i]!;
      totals[k].destination_s += destination[i]!;
      totals[k].total_s += source[i]! + destination[i]!;
    });
    if (applyMoves && cols[o + 5] === 1) moves.push(o);
  }
  for (const o of moves) {
    const d = demandOf(cols[o + 4]!);
    if (d === 0) continue;
    // Only hosts with migration CPU matter; a completed migration gave CPU to both ends unless it cost none.
    work.get(cols[o]!)?.events.push({ t: cols[o + 3]!, demand: -d, rate: null });
    work.get(cols[o + 1]!)?.events.push({ t: cols[o + 3]!, demand: d, rate: null });
  }

  const seriesCpu = LEDGER_KEYS.map(() => new Float64Array(bins));
  const seriesCont = LEDGER_KEYS.map(() => new Float64Array(bins));
  const contention = record(() => 0);
  const rows: LedgerHostRow[] = [];
  const spread = (a: number, b: number, perS: Float64Array, into: Float64Array[]) => {
    let t = a;
    while (t < b) {
      const bin = Math.min(bins - 1, Math.floor(t / binS));
      const next = bin === bins - 1 ? b : Math.min(b, (bin + 1) * binS);
      const dt = next - t;
      for (let k = 0; k < K; k++) if (perS[k]! > 0) into[k]![bin]! += perS[k]! * dt;
      t = next;
    }
  };
  for (const [h, w] of work) {
    const cores = input.hosts[h]!.cores;
    // Ends before starts and moves at the same instant: a moment's overlap carries no CPU-seconds anyway.
    w.events.sort((a, b) => a.t - b.t);
    let demand = initialDemand[h]!;
    let peak = demand;
    const rate = new Float64Array(K);
    const hostCont = new Float64Array(K);
    const cont = new Float64Array(K);
    const cpuRate = new Float64Array(K);
    for (let i = 0; i < w.events.length; ) {
      const t = w.events[i]!.t;
      while (i < w.events.length && w.events[i]!.t === t) {
        const e = w.events[i]!;
        demand += e.demand;
        if (e.rate) for (let k = 0; k < K; k++) rate[k]! += e.rate[k]!;
        i++;
      }
      peak = Math.max(peak, demand);
      const next = i < w.events.length ? w.events[i]!.t : t;
      if (next <= t) continue;
      const idle = Math.max(0, cores - demand);
      for (let k = 0; k < K; k++) {
        cpuRate[k] = Math.max(0, rate[k]!);
        cont[k] = Math.max(0, cpuRate[k]! - idle);
        hostCont[k]! += cont[k]! * (next - t);
      }
      spread(Math.max(0, t), next, cpuRate, seriesCpu);
      spread(Math.max(0, t), next, cont, seriesCont);
    }
    for (let k = 0; k < K; k++) {
      // Never more than the host's migration CPU (rounding in the sweep).
      hostCont[k] = Math.min(hostCont[k]!, w.cpu[k]!);
      contention[LEDGER_KEYS[k]!] += hostCont[k]!;
    }
    rows.push({
      host: h,
      cores,
      initial_guest_demand_cores: initialDemand[h]!,
      peak_guest_demand_cores: peak,
      migration_cpu_s: record((k) => w.cpu[LEDGER_KEYS.indexOf(k)]!),
      contention_s: record((k) => hostCont[LEDGER_KEYS.indexOf(k)]!),
    });
  }
  rows.sort((a, b) => b.contention_s.in_effect - a.contention_s.in_effect || b.migration_cpu_s.in_effect - a.migration_cpu_s.in_effect || a.host - b.host);
  return {
    bin_s: binS,
    bins,
    hosts_with_migrations: rows.length,
    hosts_with_contention: rows.filter((r) => r.contention_s.in_effect > 0).length,
    migration_cpu_s: totals,
    contention_s: contention,
    contention_share: record((k) => (totals[k].total_s > 0 ? contention[k] / totals[k].total_s : null)),
    top_hosts: rows.slice(0, input.topHosts ?? 10),
    series: {
      migration_cpu_s: record((k) => Array.from(seriesCpu[LEDGER_KEYS.indexOf(k)]!)),
      contention_s: record((k) => Array.from(seriesCont[LEDGER_KEYS.indexOf(k)]!)),
    },
  };
}

/** The ledger's totals and top hosts (what summary.json carries), without the series. */
export function ledgerTotals(l: HostCpuLedger): HostCpuLedgerTotals {
  const { series: _series, bins: _bins, ...totals } = l;
  return totals;
}

/** The ledger's input from a run's scenario (cores per host class) and fleet (VMs, initial placement). */
export function ledgerInputOf(scenario: Scenario, fleet: Fleet, jobs: readonly JobRecord[], endS: number): HostCpuLedgerInput {
  const cores = new Map(scenario.cluster.host_classes.map((c) => [c.name, c.cores]));
  return {
    hosts: fleet.hosts.map((h) => ({ cores: cores.get(h.className) ?? 0 })),
    vms: fleet.vms.map((v) => ({ vcpus: v.vcpus, utilisation: v.workload.utilisation })),
    placement: fleet.placement,
    jobs,
    endS,
  };
}
