import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { totalPages } from './total-pages.js';
import { writeRateScale } from './write-rate-scale.js';

/**
 * Accounts the pass under way at `nowS`, when it ends or is interrupted: what its finished steps sent, and what the
 * guest wrote meanwhile (each page of a class written with probability 1 - e^(-rate × time), tracked once by PML or
 * a write-protection fault). A complete pass leaves those pages dirty for the next; an interrupted one leaves the
 * unsent rest of its pages remaining too. Returns the time the pass ran, s.
 */
export function accountPass(ctx: PrecopyContext, s: PrecopyState, nowS: number): number {
  const p = s.pass!;
  const done = p.stepsDone / p.steps;
  s.transferredBytes += p.bytes * done;
  s.normalPages += p.normalPages * done;
  s.duplicatePages += p.zeroPages * done;
  const elapsed = nowS - p.startS;
  const k = writeRateScale(ctx, s);
  const written = ctx.classes.map((c) => c.pages * -Math.expm1(-c.writeRate * k * elapsed));
  ctx.mmu.guestWrites(written, elapsed);
  if (p.stepsDone < p.steps) s.remainingPages = totalPages(s.dirty) * (1 - done) + totalPages(written);
  else s.dirty = written;
  return elapsed;
}
