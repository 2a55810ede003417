import { COST_KEYS, CostId, makeProfile, type CostKey, type CostProfile } from '../mmu/cost-profile.js';
import { runDirtyLogPerf, type DirtyLogPerfRun } from '../selftest/dirty-log-perf.js';
import { B_BATCHED_FLUSHES, MEASURED_POINTS, pointBParams, type MeasuredPoint } from './measured-points.js';

export interface CalibrationRow {
  readonly point: MeasuredPoint;
  readonly simulatedSeconds: number;
  readonly relativeError: number;
}

export interface CalibrationResult {
  readonly profile: CostProfile;
  /** The fitted constants, by name. */
  readonly fitted: Partial<Record<CostKey, number>>;
  readonly condReschedIntervalNs: number;
  readonly rows: readonly CalibrationRow[];
  readonly batchedFlushes: number;
  readonly rounds: number;
}

/** Solves A x = b by Gaussian elimination with partial pivoting. */
export function solveLinear(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-300) throw new Error(`calibration system is singular at column ${col}`);
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

type RunParams = MeasuredPoint['params'];

/** Runs with `profile`, each distinct `params` function once. */
function runsWith(profile: CostProfile): (params: RunParams) => DirtyLogPerfRun {
  const runs = new Map<RunParams, DirtyLogPerfRun>();
  return (params) => {
    let run = runs.get(params);
    if (!run) {
      run = runDirtyLogPerf(params(profile));
      runs.set(params, run);
    }
    return run;
  };
}

/**
 * Fits the profile's `fitted` constants to the measured points: each point's simulated duration is a linear
 * combination of the costs (the ledger's counts), so the fitted constants solve one linear system given the
 * assumptions. Counts can depend on the constants themselves (yields, refault races), so the fit is repeated to
 * a fixed point. The yield interval is then set so that point b's batched zap flushes 76 times.
 */
export function calibrate(base: CostProfile, maxRounds: number = 8): CalibrationResult {
  let profile = base;
  const keys = MEASURED_POINTS.map((p) => p.fits);
  let rounds = 0;
  let last: number[] = [];
  for (; rounds < maxRounds; rounds++) {
    const run = runsWith(profile);
    const a: number[][] = [];
    const b: number[] = [];
    for (const p of MEASURED_POINTS) {
      const timing = p.read(run(p.params));
      let rhs = p.measuredSeconds * 1e9;
      for (const k of COST_KEYS) if (!keys.includes(k)) rhs -= timing.counts[CostId[k]]! * profile.costs[k];
      a.push(keys.map((k) => timing.counts[CostId[k]]!));
      b.push(rhs);
    }
    const x = solveLinear(a, b);
    x.forEach((v, i) => {
      if (!(v > 0)) throw new Error(`calibration gives ${keys[i]} = ${v}: the assumptions contradict the measured points`);
    });
    const costs = { ...profile.costs } as Record<CostKey, number>;
    keys.forEach((k, i) => (costs[k] = x[i]!));
    // Yield interval: point b's batched walk should yield 75 times (76 flushes with the final one).
    const bRun = runDirtyLogPerf(pointBParams(makeProfile(profile.name, costs, profile.params)));
    const batched = bRun.strategies.find((s) => s.strategy === 'zap-batched')!;
    const interval = batched.disable.ns / (B_BATCHED_FLUSHES - 0.5);
    profile = makeProfile(base.name, costs, { cond_resched_interval_ns: interval });
    const converged = last.length === x.length && x.every((v, i) => Math.abs(v - last[i]!) <= 1e-9 * Math.abs(v));
    last = x;
    if (converged) break;
  }
  const run = runsWith(profile);
  const rows = MEASURED_POINTS.map((p) => {
    const sim = p.read(run(p.params)).ns / 1e9;
    return { point: p, simulatedSeconds: sim, relativeError: sim / p.measuredSeconds - 1 };
  });
  const bRun = run(pointBParams);
  return {
    profile,
    fitted: Object.fromEntries(keys.map((k) => [k, profile.costs[k]])),
    condReschedIntervalNs: profile.params.cond_resched_interval_ns,
    rows,
    batchedFlushes: bRun.strategies.find((s) => s.strategy === 'zap-batched')!.disableStats.tlbFlushes,
    rounds: rounds + 1,
  };
}
