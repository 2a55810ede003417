import { CostId } from './cost-profile.js';
import { fastPaths } from './fast-paths.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import type { MmuLockWaits } from './mmu-lock-waits.js';
import { PG_LEVEL_2M } from './pg-level.js';
import { ENTRY_COLLAPSED, ENTRY_LEAF, ENTRY_TABLE, ENTRY_W } from './tdp-mmu.js';
import type { Vcpu } from './vcpu.js';
import { notPresentFault } from './page-fault.js';
import type { Gfn } from './pg-level.js';
import { newTouch, type VcpuActivity } from './vcpu-activity.js';

/**
 * The EPT-violation storm during a disable with running vCPUs: each region zapped for collapse is refaulted (mapped
 * huge again) by the first vCPU that touches it after the zap. A vCPU that touches a frozen SPTE waits for the
 * flush first. Refaults that fall after the end of the ioctl are left pending (the region stays collapsed until
 * the guest touches it).
 */
export class RefaultTracker {
  private times = new Float64Array(64);
  private gfns = new Float64Array(64);
  private vcpuIdxs = new Int32Array(64);
  private n = 0;
  private readonly touch = newTouch();

  constructor(
    private readonly kvm: Kvm,
    private readonly activity: VcpuActivity | undefined,
    /** The memslot being walked, when all recorded regions lie in it. */
    private readonly slot?: KvmMemorySlot,
  ) {}

  /**
   * The region [gfn, gfn + npages) was zapped at absolute time tNs; a vCPU arriving before `frozenUntilNs`
   * stalls until then.
   */
  onCollapsed(gfn: Gfn, npages: number, tNs: number, frozenUntilNs: number = tNs): void {
    if (!this.activity) return;
    const touch = this.touch;
    if (!this.activity.firstTouch(gfn, npages, tNs, touch)) return;
    let t = touch.tNs;
    if (t < frozenUntilNs) {
      this.kvm.stats.vcpuStallNs += frozenUntilNs - t;
      t = frozenUntilNs;
    }
    this.push(t, gfn, touch.vcpuIdx);
  }

  /** Records a refault of gfn by vCPU vcpuIdx at absolute time t. */
  push(t: number, gfn: Gfn, vcpuIdx: number): void {
    if (this.n === this.times.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.times = grow(this.times, (k) => new Float64Array(k));
      this.gfns = grow(this.gfns, (k) => new Float64Array(k));
      this.vcpuIdxs = grow(this.vcpuIdxs, (k) => new Int32Array(k));
    }
    this.times[this.n] = t;
    this.gfns[this.n] = gfn;
    this.vcpuIdxs[this.n] = vcpuIdx;
    this.n++;
  }

  /**
   * Applies the refaults that happen by `endNs`, in the order the zaps happened; returns how many. With `lock` (the
   * walk held mmu_lock for write) a refault waits for the walk's next yield (the wait is the caller's to count).
   */
  settle(endNs: number, lock?: MmuLockWaits): number {
    let applied = 0;
    const mmu = this.kvm.mmu;
    const faultNs = this.kvm.profile.costs.fault_not_present_ns;
    for (let i = 0; i < this.n; i++) {
      const gfn = this.gfns[i]!;
      if (mmu.mappingLevel(gfn) !== 0) continue; // already mapped again (e.g. by a 1G refault)
      const vcpuIdx = this.vcpuIdxs[i]!;
      const t = lock ? lock.acquire(vcpuIdx, this.times[i]!, faultNs) : this.times[i]!;
      if (t === undefined || t > endNs) continue;
      const vcpu = this.kvm.vcpus[vcpuIdx]!;
      if (!(fastPaths.enabled && this.refault2M(vcpu, gfn))) notPresentFault(this.kvm, vcpu, gfn);
      applied++;
    }
    this.n = 0;
    return applied;
  }

  /**
   * Shortcut of `notPresentFault` for the storm's common case: a populated 2 MiB region zapped at level 2 (nothing
   * left below it), mappable 2M again, logging off. Returns false when the general path is needed.
   */
  private refault2M(vcpu: Vcpu, gfn: Gfn): boolean {
    const kvm = this.kvm;
    const mmu = kvm.mmu;
    const r = gfn >>> 9;
    if (mmu.l2[r] !== ENTRY_COLLAPSED || (mmu.l3[gfn >>> 18]! & 3) !== ENTRY_TABLE || !kvm.host.isPopulated(r)) return false;
    const slot = this.slot ?? kvm.slotOf(gfn);
    if (!slot || !slot.contains(gfn) || slot.dirtyLogging || kvm.maxMappingLevel(slot, gfn) !== PG_LEVEL_2M) return false;
    const before = vcpu.ledger.ns;
    vcpu.ledger.charge(CostId.fault_not_present_ns);
    kvm.stats.faults.refault++;
    kvm.slowPathFaults(1);
    mmu.l2[r] = ENTRY_LEAF | ENTRY_W;
    mmu.pages[PG_LEVEL_2M]!++;
    kvm.stats.vcpuStallNs += vcpu.ledger.ns - before;
    return true;
  }
}
