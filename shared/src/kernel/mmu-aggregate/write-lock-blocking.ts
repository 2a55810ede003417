import { erf } from './erf.js';

/** What a write-locked disable walk costs the vCPUs that need mmu_lock while it runs. */
export interface WriteLockBlocking {
  /** vCPU time blocked on the lock, summed over vCPUs, ns (the refaults they take at yields included). */
  readonly blockedNs: number;
  /** Refaults the vCPUs can take before the walk ends: at most one each per yield, and one at the end. */
  readonly maxRefaults: number;
}

/**
 * vCPUs blocked while a disable walk holds mmu_lock for write (the shadow MMU's rmap zap, the 5.10 - 5.12 leaf zap;
 * see `MmuLockWaits`): a vCPU that touches zapped memory waits for the walk's next yield, refaults once, and is
 * blocked again by its next touch of zapped memory, so it refaults at most once per yield and loses the rest of the
 * walk from its first such touch. `touchesPerNs` are the VM's touches of zapped memory (units or pages) once all is
 * zapped; the zapped share grows with the walk, so a vCPU's touches follow Λ(t) = k t², and its first comes after
 * ∫ exp(-k t²) dt over the walk on average.
 */
export function writeLockBlocking(running: number, walkNs: number, touchesPerNs: number, yields: number): WriteLockBlocking {
  if (running <= 0 || touchesPerNs <= 0 || walkNs <= 0) return { blockedNs: 0, maxRefaults: 0 };
  const k = touchesPerNs / running / (2 * walkNs);
  const firstNs = Math.sqrt(Math.PI / (4 * k)) * erf(walkNs * Math.sqrt(k));
  return { blockedNs: running * Math.max(0, walkNs - firstNs), maxRefaults: running * (yields + 1) };
}
