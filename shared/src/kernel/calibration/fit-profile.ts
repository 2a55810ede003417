import { SELFTEST_DEFAULTS } from '../selftest/selftest-defaults.js';
import type { KvmHost, KvmHostSpec } from '../host/kvm-host.js';
import { kvmHostSpecKey } from '../host/kvm-host-spec-key.js';
import { resolveKvmHost } from '../host/resolve-kvm-host.js';
import { KernelSettingsInvalid } from '../host/errors/kernel-settings-invalid.js';
import { COST_KEYS, CostId, makeProfile, type CostKey, type CostProfile } from '../mmu/cost-profile.js';
import { COST_DESCRIPTIONS } from '../mmu/default-profile.js';
import { NO_BAILOUTS } from '../mmu/promote-bailout.js';
import { runDirtyLogPerf, type DirtyLogPerfParams, type DirtyLogPerfRun, type PhaseTiming } from '../selftest/dirty-log-perf.js';
import { solveLinear } from './calibrate.js';
import { CalibrationInconsistent } from './errors/calibration-inconsistent.js';
import { CalibrationUnderdetermined, type UnpinnedConstant } from './errors/calibration-underdetermined.js';
import { kernelSpecOfRun } from './run-kernel.js';
import type { SelftestRun } from './selftest-run.js';

/** The constants the default profile fits to measurements (the others are assumptions, kept from the base). */
export const FITTED_KEYS: readonly CostKey[] = COST_KEYS.filter((k) => COST_DESCRIPTIONS[k].provenance.kind === 'fitted');

/** A constant must take at least this share of some measured phase to count as exercised by the runs. */
export const SHARE_MIN = 0.01;
/**
 * A constant is pinned when the part of its (relative) column independent of the other fitted constants' columns
 * has at least this norm: 1 % noise on every phase then moves it by at most 0.01 / PIN_MIN = 20 %.
 */
export const PIN_MIN = 0.05;
/** Runs of one configuration whose residuals on a phase differ by more than this contradict each other. */
export const CONTRADICTION_SPREAD = 0.15;
/** Measured times below this are weighted as this (a phase printed as 0 s must not get an infinite weight). */
const FLOOR_NS = 1_000;

export interface FitOptions {
  /** The profile the fit starts from: its assumed constants stay, its fitted ones are the first guess. */
  readonly base: CostProfile;
  /**
   * Kernel settings applied over what each run's header says (a release string is `{ release }`): the command's
   * `--kernel`. Without a release here or in the header, the default release applies.
   */
  readonly kernel?: KvmHostSpec | string;
  /** The kernel of each run, overriding header and `kernel` (e.g. a counterfactual disable strategy). */
  readonly kernelOf?: (run: SelftestRun) => KvmHostSpec;
  /** The constants to fit. @defaultValue FITTED_KEYS */
  readonly fit?: readonly CostKey[];
  /** Name of the fitted profile. @defaultValue `${base.name}+calibrated` */
  readonly name?: string;
  /** @defaultValue 12 */
  readonly maxRounds?: number;
}

/** One measured phase of one run, with what the fitted profile simulates for it. */
export interface FitRow {
  readonly source: string;
  /** The selftest's line for it, e.g. `Iteration 2 dirty memory time`. */
  readonly phase: string;
  readonly measuredS: number;
  readonly fittedS: number;
  /** fitted / measured − 1. */
  readonly residual: number;
}

export interface FittedConstant {
  readonly key: CostKey;
  /** `fitted` from the runs; `kept`: no run this kernel can make spends time on it, so the base's value stays. */
  readonly status: 'fitted' | 'kept';
  readonly value: number;
  readonly baseValue: number;
  /** The runs' phases that spend at least SHARE_MIN of their time on it, largest share first. */
  readonly determinedBy: readonly { readonly source: string; readonly phase: string; readonly share: number }[];
  /**
   * Relative change of the constant per 1 % of noise on every measured phase (0.01 × √((AᵀA)⁻¹)ₖₖ of the
   * relative-error system): how well the runs' configurations separate it from the others.
   */
  readonly sensitivity: number | null;
  /** Relative standard error from the residuals (s × √((AᵀA)⁻¹)ₖₖ); null with no more equations than unknowns. */
  readonly relativeStandardError: number | null;
  /** Largest relative change when one run (file) is left out; null when leaving a run out unpins it. */
  readonly leaveOneOutSpread: number | null;
  /** The runs without which it would not be pinned. */
  readonly dependsOn: readonly string[];
  /** Why it was kept, for `kept`. */
  readonly note?: string;
}

/** Runs of the same configuration whose residuals on a phase disagree by more than CONTRADICTION_SPREAD. */
export interface Contradiction {
  readonly configuration: string;
  readonly phase: string;
  readonly runs: readonly { readonly source: string; readonly measuredS: number; readonly fittedS: number; readonly residual: number }[];
}

export interface FitResult {
  readonly profile: CostProfile;
  readonly constants: readonly FittedConstant[];
  readonly rows: readonly FitRow[];
  readonly contradictions: readonly Contradiction[];
  /** Root mean square of the residuals. */
  readonly rmsResidual: number;
  readonly rounds: number;
  /** The kernel each run was simulated with. */
  readonly kernels: readonly { readonly source: string; readonly release: string; readonly cpu: string; readonly tdpMmu: boolean; readonly pml: boolean; readonly strategy: string }[];
}

/** A measured phase: how to read it off a simulation, its label and its measured time (seconds). */
interface Phase {
  readonly label: string;
  readonly measuredS: number;
  readonly read: (sim: DirtyLogPerfRun) => PhaseTiming;
}

function phasesOf(run: SelftestRun): Phase[] {
  const t = run.timings;
  const out: Phase[] = [
    { label: 'Populate memory time', measuredS: t.populateS, read: (s) => s.populate },
    { label: 'Enabling dirty logging time', measuredS: t.enableS, read: (s) => s.enable },
  ];
  t.iterations.forEach((it, i) => {
    const n = i + 1;
    out.push({ label: `Iteration ${n} dirty memory time`, measuredS: it.dirtyS, read: (s) => s.iterations[i]!.dirty });
    out.push({ label: `Iteration ${n} get dirty log time`, measuredS: it.getS, read: (s) => s.iterations[i]!.get });
    if (it.clearS !== null) {
      if (!run.config.manualProtect) throw new Error(`${run.source}: a clear dirty log time without manual protect (-g)`);
      out.push({ label: `Iteration ${n} clear dirty log time`, measuredS: it.clearS, read: (s) => s.iterations[i]!.clear! });
    }
  });
  out.push({ label: 'Disabling dirty logging time', measuredS: t.disableS, read: (s) => s.strategies[0]!.disable });
  // A phase whose time is NaN was not measured (the published points give one phase of a run): no equation.
  return out.filter((p) => Number.isFinite(p.measuredS) && p.measuredS >= 0);
}

type Config = SelftestRun['config'];

/** The run's parameters for the model: its configuration on its kernel, disabling the way that kernel does. */
export function paramsOfConfig(config: Config, kernel: KvmHost, profile: CostProfile, iterations: number = config.iterations): DirtyLogPerfParams {
  return {
    vcpus: config.vcpus,
    vcpuMemoryBytes: config.vcpuMemoryBytes,
    iterations,
    backing: config.backing,
    runVcpusDuringDisable: config.runVcpusDuringDisable,
    manualProtect: config.manualProtect,
    writePercent: config.writePercent,
    randomAccess: config.randomAccess,
    slots: config.slots,
    seed: config.seed ?? 1,
    strategies: [kernel.strategy],
    kernel,
    thpCoverage: 1,
    bailouts: NO_BAILOUTS,
    profile,
  };
}

/** The selftest command line of a configuration (flags at their defaults omitted). */
export function commandOfConfig(c: Config): string {
  const size = c.vcpuMemoryBytes % 2 ** 30 === 0 ? `${c.vcpuMemoryBytes / 2 ** 30}G` : c.vcpuMemoryBytes % 2 ** 20 === 0 ? `${c.vcpuMemoryBytes / 2 ** 20}M` : `${c.vcpuMemoryBytes / 1024}K`;
  const f = [`-v ${c.vcpus}`, `-b ${size}`];
  if (c.iterations !== 2) f.push(`-i ${c.iterations}`);
  if (c.backing !== 'anonymous') f.push(`-s ${c.backing}`);
  if (c.runVcpusDuringDisable) f.push('-e');
  if (!c.manualProtect) f.push('-g');
  if (c.writePercent !== 100) f.push(`-w ${c.writePercent}`);
  if (c.randomAccess) f.push('-a');
  if (c.slots !== 1) f.push(`-x ${c.slots}`);
  return `dirty_log_perf_test ${f.join(' ')}`;
}

/** Module parameters of a spec as the user sets them (for suggestions). */
function kvmParamsText(spec: KvmHostSpec): string {
  const p: string[] = [];
  if (spec.tdpMmu !== undefined) p.push(`kvm.tdp_mmu=${spec.tdpMmu ? 'Y' : 'N'}`);
  if (spec.eagerPageSplit !== undefined) p.push(`kvm.eager_page_split=${spec.eagerPageSplit ? 'Y' : 'N'}`);
  if (spec.pml !== undefined) p.push(`kvm_intel.pml=${spec.pml ? 'Y' : 'N'}`);
  return p.join(' ');
}

/** A configuration simulated on a kernel; runs of the same configuration and kernel share it. */
interface Case {
  readonly key: string;
  readonly config: Config;
  readonly kernel: KvmHost;
  readonly iterations: number;
}

interface Row {
  readonly source: string;
  readonly caseKey: string;
  readonly phase: string;
  readonly measuredNs: number;
  readonly counts: Float64Array;
}

/** Runs of one configuration on one kernel share a case (where the vCPUs were pinned, `-c`, is not modelled). */
function caseKey(config: Config, iterations: number, spec: KvmHostSpec): string {
  const { pinnedCpus: _pinned, ...modelled } = config;
  return `${JSON.stringify(modelled)}|${iterations}|${kvmHostSpecKey(spec)}`;
}

/** Simulates each case once per profile. */
function simulator(profile: CostProfile): (c: Case) => DirtyLogPerfRun {
  const sims = new Map<string, DirtyLogPerfRun>();
  return (c) => {
    let s = sims.get(c.key);
    if (!s) {
      s = runDirtyLogPerf(paramsOfConfig(c.config, c.kernel, profile, c.iterations));
      sims.set(c.key, s);
    }
    return s;
  };
}

/** Column j of the relative-error system: row i is the share of measured phase i that cost j takes at `profile`. */
function columns(rows: readonly Row[], keys: readonly CostKey[], profile: CostProfile): number[][] {
  return keys.map((k) => rows.map((r) => (r.counts[CostId[k]]! * profile.costs[k]) / Math.max(r.measuredNs, FLOOR_NS)));
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** Norm of the part of column `k` orthogonal to the span of the columns `others` (modified Gram–Schmidt). */
function perpNorm(cols: readonly number[][], k: number, others: readonly number[]): number {
  const basis: number[][] = [];
  for (const o of others) {
    const v = [...cols[o]!];
    for (const q of basis) {
      const d = dot(v, q);
      for (let i = 0; i < v.length; i++) v[i]! -= d * q[i]!;
    }
    const n = Math.sqrt(dot(v, v));
    if (n > 1e-12) basis.push(v.map((x) => x / n));
  }
  const v = [...cols[k]!];
  for (const q of basis) {
    const d = dot(v, q);
    for (let i = 0; i < v.length; i++) v[i]! -= d * q[i]!;
  }
  return Math.sqrt(dot(v, v));
}

/** Least squares min ‖A f − b‖ by the normal equations (columns are shares, so well scaled); also (AᵀA)⁻¹. */
function leastSquares(cols: readonly number[][], b: readonly number[]): { f: number[]; inv: number[][] } {
  const n = cols.length;
  const ata = cols.map((ci) => cols.map((cj) => dot(ci, cj)));
  const atb = cols.map((c) => dot(c, b));
  const f = solveLinear(ata, atb);
  const inv = Array.from({ length: n }, (_, j) => solveLinear(ata, cols.map((_c, i) => (i === j ? 1 : 0))));
  return { f, inv };
}

/** The right-hand side: 1 less the share of the constants not being fitted. */
function rhs(rows: readonly Row[], unknown: readonly CostKey[], profile: CostProfile): number[] {
  const fixed = COST_KEYS.filter((k) => !unknown.includes(k));
  return rows.map((r) => {
    let known = 0;
    for (const k of fixed) known += r.counts[CostId[k]]! * profile.costs[k];
    return (r.measuredNs - known) / Math.max(r.measuredNs, FLOOR_NS);
  });
}

/** Probe configurations a user can add, simplest first: what the suggestions are derived from. */
const PROBES: readonly { readonly config: Partial<Config>; readonly kvm: KvmHostSpec }[] = [
  { config: {}, kvm: {} },
  { config: { manualProtect: false }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_2mb' }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_2mb', manualProtect: false }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_2mb', runVcpusDuringDisable: true }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 2 ** 30 }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 2 ** 30, manualProtect: false }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 2 ** 30, runVcpusDuringDisable: true }, kvm: {} },
  { config: { backing: 'anonymous_hugetlb_2mb', manualProtect: false }, kvm: { eagerPageSplit: false } },
  { config: { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 2 ** 30, manualProtect: false }, kvm: { eagerPageSplit: false } },
  { config: {}, kvm: { pml: false } },
  { config: { manualProtect: false }, kvm: { pml: false } },
];

const PROBE_BASE: Config = { ...SELFTEST_DEFAULTS, vcpus: 8, vcpuMemoryBytes: 512 * 2 ** 20 };

/** What a probe has that no run has, in words: "no run disables with running vCPUs (-e)". */
function missing(probe: (typeof PROBES)[number], runs: readonly SelftestRun[], specs: readonly KvmHostSpec[]): string {
  const c = { ...PROBE_BASE, ...probe.config };
  const gaps: string[] = [];
  if (c.runVcpusDuringDisable && !runs.some((r) => r.config.runVcpusDuringDisable)) gaps.push('disables with running vCPUs (-e)');
  if (!c.manualProtect && !runs.some((r) => !r.config.manualProtect && r.config.backing === c.backing)) gaps.push(`runs without manual protect (-g)${c.backing !== 'anonymous' ? ` on ${c.backing}` : ''}`);
  if (c.backing !== 'anonymous' && !runs.some((r) => r.config.backing === c.backing)) gaps.push(`is backed by ${c.backing} (-s ${c.backing})`);
  if (probe.kvm.pml === false && !specs.some((s) => s.pml === false)) gaps.push('runs with PML off (kvm_intel.pml=N)');
  if (probe.kvm.eagerPageSplit === false && !specs.some((s) => s.eagerPageSplit === false)) gaps.push('runs with eager page splitting off (kvm.eager_page_split=N)');
  return gaps.length > 0 ? `no run ${gaps.join(', or ')}` : 'the runs do not separate it';
}

/**
 * Fits the profile's fitted constants to the user's runs: each measured phase of each run is an equation
 * Σₖ countsₖ × costₖ = measured, the counts from simulating the run's configuration on its kernel. The fitted
 * constants solve the system in the least-squares sense of relative errors (every phase weighs the same whatever its
 * length); counts depend on the constants (yields, refault races), so the fit is repeated to a fixed point, as
 * `calibrate` does for the published points. Constants no run exercises and no run on these kernels could are kept
 * from the base. Throws CalibrationUnderdetermined naming each constant the runs leave free and the run that would
 * pin it; CalibrationInconsistent when the runs ask for a non-positive constant.
 */
export function fitProfile(runs: readonly SelftestRun[], opts: FitOptions): FitResult {
  if (runs.length === 0) throw new CalibrationUnderdetermined(FITTED_KEYS.map((key) => ({ key, reason: 'no runs', suggestion: 'give at least one dirty_log_perf_test run' })));
  const override: KvmHostSpec = typeof opts.kernel === 'string' ? { release: opts.kernel } : (opts.kernel ?? {});
  const specs = runs.map((r) => (opts.kernelOf ? opts.kernelOf(r) : kernelSpecOfRun(r, override)));
  const cases = runs.map((r, i): Case => {
    let kernel: KvmHost;
    try {
      kernel = resolveKvmHost(specs[i]!);
    } catch (e) {
      if (e instanceof KernelSettingsInvalid) throw new KernelSettingsInvalid(e.issues.map((x) => ({ field: x.field, message: `${r.source}: ${x.message}` })));
      throw e;
    }
    const iterations = Math.max(r.config.iterations, r.timings.iterations.length);
    return { key: caseKey(r.config, iterations, specs[i]!), config: r.config, kernel, iterations };
  });
  const phases = runs.map(phasesOf);
  const candidates = opts.fit ?? FITTED_KEYS;
  const rowsAt = (profile: CostProfile): Row[] => {
    const sim = simulator(profile);
    return runs.flatMap((r, i) => phases[i]!.map((p) => ({ source: r.source, caseKey: cases[i]!.key, phase: p.label, measuredNs: p.measuredS * 1e9, counts: p.read(sim(cases[i]!)).counts })));
  };

  // Which constants the runs exercise, and whether they pin them.
  let profile = opts.base;
  let rows = rowsAt(profile);
  const allCols = columns(rows, candidates, profile);
  const exercised = candidates.filter((_k, j) => allCols[j]!.some((v) => v >= SHARE_MIN));
  const probeCases = probeCasesFor(specs);
  const probeRows = (profile0: CostProfile): { probe: (typeof PROBES)[number]; spec: KvmHostSpec; rows: Row[] }[] => {
    const sim = simulator(profile0);
    return probeCases.map((pc) => {
      const s = sim(pc.case);
      const ph = phasesOf(selftestRunOf(`probe`, pc.case.config, s));
      return { probe: pc.probe, spec: pc.spec, rows: ph.map((p) => ({ source: 'probe', caseKey: pc.case.key, phase: p.label, measuredNs: p.read(s).ns, counts: p.read(s).counts })) };
    });
  };
  let probes: ReturnType<typeof probeRows> | undefined;
  const kept: { key: CostKey; note: string }[] = [];
  const unpinned: UnpinnedConstant[] = [];
  const pinnedBy = (rs: readonly Row[], unknown: readonly CostKey[], k: CostKey): number => {
    const cols = columns(rs, unknown, profile);
    const j = unknown.indexOf(k);
    return perpNorm(cols, j, unknown.map((_u, i) => i).filter((i) => i !== j));
  };
  const shareIn = (r: Row, k: CostKey): number => (r.counts[CostId[k]]! * profile.costs[k]) / Math.max(r.measuredNs, FLOOR_NS);
  const exercises = (rs: readonly Row[], k: CostKey): boolean => rs.some((r) => shareIn(r, k) >= SHARE_MIN);
  type ProbeRun = ReturnType<typeof probeRows>[number];
  /**
   * The constants of `target` the runs leave free, and probes added greedily (the one that pins the most at each
   * step, simplest first on ties) until no probe pins more: for each constant, the step that pinned it.
   */
  const plan = (target: readonly CostKey[]) => {
    const free0 = target.filter((k) => pinnedBy(rows, target, k) < PIN_MIN);
    const chosen: ProbeRun[] = [];
    const pinnedAt = new Map<CostKey, number>();
    let aug: Row[] = rows;
    let free = free0;
    while (free.length > 0) {
      // Progress: how close each free constant comes to pinned (a probe may only half separate it: two are needed).
      const score = (rs: readonly Row[]) => free.reduce((a, k) => a + Math.min(pinnedBy(rs, target, k) / PIN_MIN, 1), 0);
      const now = score(aug);
      let best: { p: ProbeRun; free: CostKey[]; score: number } | undefined;
      for (const p of probes ?? []) {
        if (chosen.includes(p)) continue;
        const rs = [...aug, ...p.rows];
        const sc = score(rs);
        if (sc > (best?.score ?? now + 1e-6)) best = { p, free: free.filter((k) => pinnedBy(rs, target, k) < PIN_MIN), score: sc };
      }
      if (!best) break;
      chosen.push(best.p);
      aug = [...aug, ...best.p.rows];
      for (const k of free) if (!best.free.includes(k)) pinnedAt.set(k, chosen.length);
      free = best.free;
    }
    return { free0, chosen, pinnedAt, leftover: free };
  };
  const probeText = (p: ProbeRun, k: CostKey): string => {
    const best = p.rows.reduce((a, r) => (shareIn(r, k) > shareIn(a, k) ? r : a));
    const kvm = kvmParamsText(p.probe.kvm);
    const why = shareIn(best, k) >= SHARE_MIN ? `its ${best.phase} is ${Math.round(shareIn(best, k) * 100)} % ${k}` : `it times what ${k} moves with, without ${k}`;
    return `\`${commandOfConfig({ ...PROBE_BASE, ...p.probe.config })}\`${kvm ? ` with ${kvm}` : ''} (${why} on ${p.spec.release ?? 'the default release'})`;
  };
  /** The constants that, fixed, would leave `k` pinned by the runs as they are. */
  const movesWith = (k: CostKey, target: readonly CostKey[]): string => {
    const p = target.filter((o) => o !== k && exercises(rows, o) && pinnedBy(rows, target.filter((x) => x !== o), k) >= PIN_MIN);
    return p.length > 0 ? p.join(' or ') : 'the other fitted constants';
  };
  const releases = [...new Set(cases.map((c) => c.kernel.release))].join(', ');
  let target = candidates.filter((k) => exercised.includes(k));
  if (candidates.some((k) => !exercised.includes(k) || pinnedBy(rows, target, k) < PIN_MIN)) {
    probes = probeRows(profile);
    target = candidates.filter((k) => exercised.includes(k) || probes!.some((p) => exercises(p.rows, k)));
    for (const k of candidates.filter((c) => !target.includes(c))) {
      kept.push({ key: k, note: `no dirty_log_perf_test run on ${releases} spends time on it (${COST_DESCRIPTIONS[k].what}); the base's value stays` });
    }
    let pl = plan(target);
    // Constants no selftest configuration separates on these kernels: the base's value stays, the rest is refitted.
    const everything = [...rows, ...probes.flatMap((p) => p.rows)];
    for (let guard = 0; pl.leftover.length > 0 && guard < candidates.length; guard++) {
      // Keep the least separable one and try again: the others may be pinned once it is fixed.
      const k = pl.leftover.reduce((a, c) => (pinnedBy(everything, target, c) < pinnedBy(everything, target, a) ? c : a));
      const partners = target.filter((o) => o !== k && pinnedBy(everything, target.filter((x) => x !== o), k) >= PIN_MIN);
      kept.push({
        key: k,
        note: `no dirty_log_perf_test configuration on ${releases} separates it from ${partners.join(', ') || 'the other fitted constants'} (they scale with the same counts); the base's value stays (set it in a --base file)`,
      });
      target = target.filter((x) => x !== k);
      pl = plan(target);
    }
    for (const k of pl.free0) {
      const step = pl.pinnedAt.get(k)!;
      const used = pl.chosen.slice(0, step).filter((p) => exercises(p.rows, k));
      const adds = used.length > 0 ? used : [pl.chosen[step - 1]!];
      const cols = columns(rows, target, profile);
      const j = target.indexOf(k);
      const alone = Math.sqrt(dot(cols[j]!, cols[j]!));
      const reason = !exercises(rows, k)
        ? `no phase of the runs spends ${SHARE_MIN * 100} % of its time on it (${missing(adds[0]!.probe, runs, specs)})`
        : pinnedBy(rows, target, k) / alone > 0.5
          ? `it takes at most ${(Math.max(...rows.map((r) => shareIn(r, k))) * 100).toFixed(1)} % of a phase: 1 % of noise would move it by more than ${Math.round(1 / PIN_MIN)} %`
          : `it moves with ${movesWith(k, target)} in every run (${((pinnedBy(rows, target, k) / alone) * 100).toFixed(1)} % of its time is independent of theirs)`;
      unpinned.push({ key: k, reason, suggestion: `add ${adds.map((p) => probeText(p, k)).join(' and ')}` });
    }
  }
  const exercisedPinned = target;
  if (unpinned.length > 0) throw new CalibrationUnderdetermined(unpinned);

  // Fit to a fixed point.
  const unknown = exercisedPinned;
  const maxRounds = opts.maxRounds ?? 12;
  let rounds = 0;
  for (; rounds < maxRounds; rounds++) {
    if (rounds > 0) rows = rowsAt(profile);
    const { f } = leastSquares(columns(rows, unknown, profile), rhs(rows, unknown, profile));
    const costs = { ...profile.costs } as Record<CostKey, number>;
    unknown.forEach((k, j) => {
      const v = profile.costs[k] * f[j]!;
      if (!(v > 0)) throw new CalibrationInconsistent(k, v);
      costs[k] = v;
    });
    profile = makeProfile(opts.name ?? `${opts.base.name}+calibrated`, costs, profile.params);
    if (f.every((x) => Math.abs(x - 1) <= 1e-9)) break;
  }
  rows = rowsAt(profile);
  const cols = columns(rows, unknown, profile);
  const b = rhs(rows, unknown, profile);
  const { inv } = leastSquares(cols, b);
  const fitRows: FitRow[] = rows.map((r) => {
    let ns = 0;
    for (const k of COST_KEYS) ns += r.counts[CostId[k]]! * profile.costs[k];
    return { source: r.source, phase: r.phase, measuredS: r.measuredNs / 1e9, fittedS: ns / 1e9, residual: (ns - r.measuredNs) / Math.max(r.measuredNs, FLOOR_NS) };
  });
  const dof = rows.length - unknown.length;
  const s = dof > 0 ? Math.sqrt(fitRows.reduce((a, r) => a + r.residual ** 2, 0) / dof) : null;

  // Leave one run out: the linearised system without its rows.
  const sources = [...new Set(runs.map((r) => r.source))];
  const loo = new Map<CostKey, number>();
  const dependsOn = new Map<CostKey, string[]>();
  for (const src of sources) {
    const keep = rows.map((r, i) => (r.source === src ? -1 : i)).filter((i) => i >= 0);
    const sub = cols.map((c) => keep.map((i) => c[i]!));
    const free = unknown.filter((_k, j) => perpNorm(sub, j, unknown.map((_u, i) => i).filter((i) => i !== j)) < PIN_MIN);
    for (const k of free) dependsOn.set(k, [...(dependsOn.get(k) ?? []), src]);
    if (free.length > 0) continue;
    const { f } = leastSquares(sub, keep.map((i) => b[i]!));
    unknown.forEach((k, j) => loo.set(k, Math.max(loo.get(k) ?? 0, Math.abs(f[j]! - 1))));
  }

  const constants: FittedConstant[] = candidates.map((k) => {
    const keptNote = kept.find((x) => x.key === k)?.note;
    const j = unknown.indexOf(k);
    const shares = rows
      .map((r) => ({ source: r.source, phase: r.phase, share: (r.counts[CostId[k]]! * profile.costs[k]) / Math.max(r.measuredNs, FLOOR_NS) }))
      .filter((x) => x.share >= SHARE_MIN)
      .sort((x, y) => y.share - x.share);
    const deps = dependsOn.get(k) ?? [];
    return {
      key: k,
      status: j >= 0 ? 'fitted' : 'kept',
      value: profile.costs[k],
      baseValue: opts.base.costs[k],
      determinedBy: shares,
      sensitivity: j >= 0 ? 0.01 * Math.sqrt(inv[j]![j]!) : null,
      relativeStandardError: j >= 0 && s !== null ? s * Math.sqrt(inv[j]![j]!) : null,
      leaveOneOutSpread: j >= 0 && deps.length === 0 ? (loo.get(k) ?? 0) : null,
      dependsOn: deps,
      ...(keptNote !== undefined && { note: keptNote }),
    };
  });

  return {
    profile,
    constants,
    rows: fitRows,
    contradictions: contradictionsOf(rows, fitRows, runs, cases),
    rmsResidual: Math.sqrt(fitRows.reduce((a, r) => a + r.residual ** 2, 0) / Math.max(fitRows.length, 1)),
    rounds: rounds + 1,
    kernels: runs.map((r, i) => {
      const k = cases[i]!.kernel;
      return { source: r.source, release: k.release, cpu: k.cpu, tdpMmu: k.tdpMmu, pml: k.pml, strategy: k.strategy };
    }),
  };
}

function contradictionsOf(rows: readonly Row[], fitRows: readonly FitRow[], runs: readonly SelftestRun[], cases: readonly Case[]): Contradiction[] {
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = `${r.caseKey}#${r.phase}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const out: Contradiction[] = [];
  for (const idx of groups.values()) {
    if (new Set(idx.map((i) => rows[i]!.source)).size < 2) continue;
    const res = idx.map((i) => fitRows[i]!.residual);
    if (Math.max(...res) - Math.min(...res) <= CONTRADICTION_SPREAD) continue;
    const first = rows[idx[0]!]!;
    const runIdx = runs.findIndex((r) => r.source === first.source);
    const c = cases[runIdx]!;
    out.push({
      configuration: `${commandOfConfig(c.config)} on ${c.kernel.release}`,
      phase: first.phase,
      runs: idx.map((i) => ({ source: fitRows[i]!.source, measuredS: fitRows[i]!.measuredS, fittedS: fitRows[i]!.fittedS, residual: fitRows[i]!.residual })),
    });
  }
  return out;
}

/** The probes on each distinct kernel of the runs (those the kernel can take). */
function probeCasesFor(specs: readonly KvmHostSpec[]): { probe: (typeof PROBES)[number]; spec: KvmHostSpec; case: Case }[] {
  const distinct = new Map<string, KvmHostSpec>();
  for (const s of specs) distinct.set(kvmHostSpecKey(s), s);
  const out: { probe: (typeof PROBES)[number]; spec: KvmHostSpec; case: Case }[] = [];
  for (const probe of PROBES) {
    for (const base of distinct.values()) {
      const spec = { ...base, ...probe.kvm };
      let kernel: KvmHost;
      try {
        kernel = resolveKvmHost(spec);
      } catch (e) {
        if (e instanceof KernelSettingsInvalid) continue;
        throw e;
      }
      const config = { ...PROBE_BASE, ...probe.config };
      out.push({ probe, spec, case: { key: `probe|${JSON.stringify(config)}|${kvmHostSpecKey(spec)}`, config, kernel, iterations: config.iterations } });
    }
  }
  return out;
}

/** A SelftestRun whose timings are a simulation's (seconds): the form `dirty-log-perf --format selftest` prints. */
export function selftestRunOf(source: string, config: Config, sim: DirtyLogPerfRun, host: SelftestRun['host'] = { uname: null, cpu: null, kvmParams: {} }): SelftestRun {
  return {
    source,
    config,
    host,
    timings: {
      populateS: sim.populate.ns / 1e9,
      enableS: sim.enable.ns / 1e9,
      iterations: sim.iterations.map((it) => ({ dirtyS: it.dirty.ns / 1e9, getS: it.get.ns / 1e9, clearS: it.clear ? it.clear.ns / 1e9 : null })),
      disableS: sim.strategies[0]!.disable.ns / 1e9,
    },
  };
}

/**
 * What `profile` predicts for each measured phase of `runs` (held-back runs of a cross-validation): the same rows as
 * a fit's, nothing fitted. The kernels are found as `fitProfile` finds them.
 */
export function predictRuns(runs: readonly SelftestRun[], profile: CostProfile, opts: Pick<FitOptions, 'kernel' | 'kernelOf'> = {}): FitRow[] {
  const override: KvmHostSpec = typeof opts.kernel === 'string' ? { release: opts.kernel } : (opts.kernel ?? {});
  const sim = simulator(profile);
  return runs.flatMap((r) => {
    const spec = opts.kernelOf ? opts.kernelOf(r) : kernelSpecOfRun(r, override);
    const iterations = Math.max(r.config.iterations, r.timings.iterations.length);
    const s = sim({ key: caseKey(r.config, iterations, spec), config: r.config, kernel: resolveKvmHost(spec), iterations });
    return phasesOf(r).map((p) => {
      const ns = p.read(s).ns;
      const m = p.measuredS * 1e9;
      return { source: r.source, phase: p.label, measuredS: p.measuredS, fittedS: ns / 1e9, residual: (ns - m) / Math.max(m, FLOOR_NS) };
    });
  });
}
