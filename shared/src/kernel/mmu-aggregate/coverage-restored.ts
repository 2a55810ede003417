import type { AggregateMmuState } from './aggregate-mmu-state.js';

/** Share of the zapped units still waiting for their refault when huge coverage counts as restored. */
const LEFT_SHARE = 0.01;
/** Upper bound of the search, s: a coverage not restored by then is never restored. */
const NEVER_S = 1e9;
/** Bisection steps, enough for a double. */
const BISECTION_STEPS = 60;

/**
 * Seconds after a disable until 99 % of the zapped units are mapped huge again (each refaulted on its first touch,
 * a Poisson process of the class's per-unit touch rate scaled by `rateScale`); 0 when nothing was zapped, null when
 * it never happens: units no vCPU touches, units the host cannot map huge any more (`pPfn` > 0), or refaults the NX
 * adjustment forces to 4K below the tables a leaf-only zap left (`forcedSmall`).
 */
export function coverageRestoredS(mmu: AggregateMmuState, zapped: readonly number[], rateScale: number, pPfn: number, forcedSmall: boolean = false): number | null {
  if (forcedSmall) return zapped.some((z) => z > 0) ? null : 0;
  if (pPfn > 0) return null;
  let total = 0;
  let never = 0;
  const rates: { m: number; mu: number }[] = [];
  mmu.cfg.classes.forEach((c, i) => {
    const m = zapped[i] ?? 0;
    if (m <= 0) return;
    total += m;
    const mu = (c.writeRate + c.readRate) * rateScale * mmu.uPages;
    if (mu <= 0) never += m;
    else rates.push({ m, mu });
  });
  if (total <= 0) return 0;
  if (never > LEFT_SHARE * total) return null;
  const left = (t: number) => never + rates.reduce((s, r) => s + r.m * Math.exp(-r.mu * t), 0);
  let lo = 0;
  let hi = 1;
  while (left(hi) > LEFT_SHARE * total && hi < NEVER_S) hi *= 2;
  if (hi >= NEVER_S) return null;
  for (let k = 0; k < BISECTION_STEPS; k++) {
    const mid = (lo + hi) / 2;
    if (left(mid) > LEFT_SHARE * total) lo = mid;
    else hi = mid;
  }
  return hi;
}
