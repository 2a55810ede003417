/** Mode `kvm->mmu_lock` (an rwlock on x86) is taken in: TDP MMU faults and most walks take it for read. */
export type MmuLockMode = 'read' | 'write';

/**
 * `kvm->mmu_lock` as the model needs it: who holds it while an ioctl runs, and for how long. Faults take it for
 * read (the TDP MMU) or not at all (the fast path); CLEAR_DIRTY_LOG and classic GET_DIRTY_LOG take it for write,
 * which blocks faulting vCPUs.
 */
export class MmuLock {
  private holder: MmuLockMode | undefined;
  private since = 0;

  acquire(mode: MmuLockMode, nowNs: number): void {
    if (this.holder !== undefined) throw new Error(`mmu_lock already held for ${this.holder}`);
    this.holder = mode;
    this.since = nowNs;
  }

  /** Releases the lock; returns how long it was held (ns). */
  release(nowNs: number): number {
    if (this.holder === undefined) throw new Error('mmu_lock released but not held');
    this.holder = undefined;
    return nowNs - this.since;
  }
}
