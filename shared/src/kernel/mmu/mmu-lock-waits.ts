/**
 * vCPUs waiting for `mmu_lock` while a disable walk holds it for write (the shadow MMU's rmap zap in every release;
 * the TDP MMU's leaf zap in 5.10 - 5.12, before 2db6f772b530): a fault that needs the lock gets it when the walk
 * next yields (`cond_resched_rwlock_write` / `tdp_mmu_iter_cond_resched` yield to a waiting vCPU) or ends. A blocked
 * vCPU touches nothing else, so each vCPU faults at most once per yield while the walk runs. The walk records its
 * yields; refaults, taken in each vCPU's order, ask when they get the lock.
 */
export class MmuLockWaits {
  private readonly yieldsNs: number[] = [];
  private endNs = Number.POSITIVE_INFINITY;
  /** Per vCPU: when it is free to touch memory again after its last fault. */
  private readonly freeAfterNs = new Map<number, number>();
  /** vCPU time spent waiting for the lock, summed. */
  waitedNs = 0;

  constructor(private readonly startNs: number) {}

  /** The walk dropped the lock at absolute time tNs. */
  yielded(tNs: number): void {
    this.yieldsNs.push(tNs);
  }

  /** The walk is over (the lock is released for good) at tNs. */
  ended(tNs: number): void {
    this.endNs = tNs;
  }

  /**
   * A fault of vCPU `vcpuIdx` on a page it would touch at `touchNs` (later if it was still blocked): returns when it
   * gets the lock (a yield, or the end of the walk), or undefined when that is after the walk (the fault is left for
   * later). The vCPU is free again `holdNs` after it got the lock.
   */
  acquire(vcpuIdx: number, touchNs: number, holdNs: number): number | undefined {
    const start = Math.max(touchNs, this.freeAfterNs.get(vcpuIdx) ?? touchNs);
    const got = this.freeAt(start);
    if (got > this.endNs) return undefined;
    this.freeAfterNs.set(vcpuIdx, got + holdNs);
    this.waitedNs += got - start;
    return got;
  }

  /** When the lock is next free at or after tNs: the first yield, the end, or tNs itself outside the walk. */
  private freeAt(tNs: number): number {
    if (tNs >= this.endNs || tNs < this.startNs) return tNs;
    const y = this.yieldsNs;
    let lo = 0;
    let hi = y.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (y[mid]! < tNs) lo = mid + 1;
      else hi = mid;
    }
    return lo < y.length ? y[lo]! : this.endNs;
  }
}
