import { ChunkKind, CHUNK_WORDS } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import type { Kvm } from './kvm.js';
import type { MmuLockWaits } from './mmu-lock-waits.js';
import { PG_LEVEL_2M, PG_LEVEL_4K } from './pg-level.js';
import { R2 } from './tdp-mmu.js';
import { newTouch, type VcpuActivity } from './vcpu-activity.js';

/** One 4K table whose leaves a walk zapped: which, from when, one every `perLeafNs`. */
interface ZappedTable {
  readonly r: number;
  /** The zapped leaves (16 words), or null for all 512. */
  readonly mask: Uint32Array | null;
  readonly firstNs: number;
  readonly perLeafNs: number;
  readonly n: number;
}

const ZAPPED = new Uint32Array(CHUNK_WORDS);
const P = new Uint32Array(CHUNK_WORDS);
const W = new Uint32Array(CHUNK_WORDS);
const BACK = new Uint32Array(CHUNK_WORDS);

/**
 * Refaults after a leaf-only zap (`zap-leaf`, `rmap-zap`) when the NX adjustment forces every refault below the page
 * table left present (`disallowedHugepageAdjust`, before 6.2): each zapped leaf a running vCPU touches again is
 * mapped 4K by its own not-present fault, and the huge page never comes back (76901e56fb51 describes it after
 * cancelled migrations). The walk records its tables; the refaults that happen by the end of the ioctl are applied
 * then, in bulk where every leaf is touched again before the end.
 */
export class LeafRefaults {
  private readonly tables: ZappedTable[] = [];
  private readonly touch = newTouch();

  constructor(
    private readonly kvm: Kvm,
    private readonly activity: VcpuActivity,
  ) {}

  /** The walk zapped the leaves of table r in `mask` (null: all 512), the first at firstNs, one every perLeafNs. */
  record(r: number, mask: Uint32Array | null, firstNs: number, perLeafNs: number, n: number): void {
    this.tables.push({ r, mask: mask ? mask.slice() : null, firstNs, perLeafNs, n });
  }

  /**
   * Maps again, at 4K, the zapped leaves a vCPU touches by `endNs` (with `lock`, once the walk lets go of mmu_lock:
   * the wait is the caller's to count); returns how many.
   */
  settle(endNs: number, lock?: MmuLockWaits): number {
    const kvm = this.kvm;
    const mmu = kvm.mmu;
    const touch = this.touch;
    let refaulted = 0;
    const faultNs = kvm.profile.costs.fault_not_present_ns;
    for (const t of this.tables) {
      if (t.mask) ZAPPED.set(t.mask);
      else ZAPPED.fill(0xffffffff);
      const regionGfn = t.r * R2;
      const lastNs = t.firstNs + t.n * t.perLeafNs;
      // Back in bulk when every page of the table is touched again before the end (and after its zap).
      const all = endNs - lastNs >= this.activity.revisitNs && this.activity.firstTouch(regionGfn, R2, lastNs, touch);
      const owner = touch.vcpuIdx;
      mmu.present.readChunk(t.r, P);
      let k = 0;
      let j = 0;
      for (let w = 0; w < CHUNK_WORDS; w++) {
        let bits = ZAPPED[w]!;
        let back = 0;
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits = (bits & (bits - 1)) >>> 0;
          const zappedNs = t.firstNs + (j + 1) * t.perLeafNs;
          j++;
          let at: number;
          let vcpuIdx: number;
          if (all) {
            at = zappedNs;
            vcpuIdx = owner;
          } else {
            if (!this.activity.firstTouch(regionGfn + w * 32 + b, 1, zappedNs, touch)) continue;
            at = touch.tNs;
            vcpuIdx = touch.vcpuIdx;
          }
          const got = lock ? lock.acquire(vcpuIdx, at, faultNs) : at;
          if (got === undefined || got > endNs) continue;
          back = (back | (1 << b)) >>> 0;
          if (lock || !all) this.fault(vcpuIdx, 1);
          k++;
        }
        P[w] = (P[w]! | back) >>> 0;
        BACK[w] = back;
      }
      if (k === 0) continue;
      if (all && !lock) this.fault(owner, k);
      refaulted += k;
      mmu.present.writeChunk(t.r, P);
      // Refaults map writable (ACC_ALL); logging is off.
      mmu.writable.readChunk(t.r, W);
      for (let w = 0; w < CHUNK_WORDS; w++) W[w] = (W[w]! | BACK[w]!) >>> 0;
      mmu.writable.writeChunk(t.r, W);
      mmu.pages[PG_LEVEL_4K]! += k;
      if (mmu.present.chunkKind(t.r) === ChunkKind.One) mmu.setCollapsed(PG_LEVEL_2M, regionGfn, false);
    }
    return refaulted;
  }

  /** `n` 4K refaults by vCPU vcpuIdx: the slow path maps each page (no table to link, nothing to flush). */
  private fault(vcpuIdx: number, n: number): void {
    const kvm = this.kvm;
    const ledger = kvm.vcpus[vcpuIdx]!.ledger;
    const before = ledger.ns;
    ledger.charge(CostId.fault_not_present_ns, n);
    kvm.stats.vcpuStallNs += ledger.ns - before;
    kvm.stats.faults.refault += n;
    kvm.slowPathFaults(n);
  }
}
