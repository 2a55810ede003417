import type { PrecopyContext } from './precopy-context.js';
import type { PrecopyState } from './precopy-state.js';
import { GUEST_IMPACT } from './qemu-defaults.js';
import { share4k } from './share-4k.js';
import { totalPages } from './total-pages.js';
import { writeRateScale } from './write-rate-scale.js';

/**
 * Accounts the pass under way at `nowS`, when it ends or is interrupted: what its finished steps sent, and what the
 * guest wrote meanwhile (each page of a class written with probability 1 - e^(-rate × time), tracked once by PML or
 * a write-protection fault), up to the pause if the completion timeout paused the VM. A complete pass leaves those
 * pages dirty for the next; an interrupted one leaves the unsent rest of its pages remaining too. The running
 * vCPUs' lost time is accounted too: the throttle's sleep, and the 4K-EPT slowdown over the memory logging has split
 * (its share averaged over the pass). Returns the time the pass ran, s.
 */
export function accountPass(ctx: PrecopyContext, s: PrecopyState, nowS: number): number {
  const p = s.pass!;
  const done = p.stepsDone / p.steps;
  s.transferredBytes += p.bytes * done;
  s.normalPages += p.normalPages * done;
  s.duplicatePages += p.zeroPages * done;
  const elapsed = nowS - p.startS;
  const runS = Math.max(0, Math.min(nowS, s.pausedAtS ?? Infinity) - p.startS);
  const k = writeRateScale(ctx, s);
  const written = ctx.classes.map((c) => c.pages * -Math.expm1(-c.writeRate * k * runS));
  ctx.costs.guestWrites(written, runS);
  const share = share4k(ctx.mmu, ctx.touchShares);
  s.throttlingS += ctx.running * (1 - k) * runS;
  s.ept4kS += ctx.running * k * runS * ((s.share4k + share) / 2) * GUEST_IMPACT.ept4kSlowdown;
  s.share4k = share;
  if (p.stepsDone < p.steps) {
    s.dirty = s.dirty.map((d, i) => d * (1 - done) + written[i]!);
    s.remainingPages = totalPages(s.dirty);
  } else s.dirty = written;
  return elapsed;
}
