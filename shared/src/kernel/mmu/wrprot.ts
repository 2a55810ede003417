import { CHUNK_WORDS, popcount32 } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import type { Kvm } from './kvm.js';
import { PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K, type Gfn } from './pg-level.js';
import { ENTRY_LEAF, ENTRY_TABLE, ENTRY_W, G1_PAGES, R2, type MmuAccount } from './tdp-mmu.js';

const P = new Uint32Array(CHUNK_WORDS);
const W = new Uint32Array(CHUNK_WORDS);

/**
 * `kvm_tdp_mmu_wrprot_slot` (and, with PML, `kvm_tdp_mmu_clear_dirty_slot` for 4K leaves, which the model treats
 * the same way: the next write is tracked either way): write-protects every present leaf at or above `minLevel`
 * in [start, end). Returns whether anything changed (the caller flushes).
 */
export function kvmTdpMmuWrprotSlot(kvm: Kvm, start: Gfn, end: Gfn, minLevel: number, acct: MmuAccount): boolean {
  const mmu = kvm.mmu;
  const { ledger } = acct;
  let changed = false;
  for (let g = Math.floor(start / G1_PAGES); g * G1_PAGES < end; g++) {
    const e3 = mmu.l3[g]!;
    ledger.charge(CostId.spte_walk_ns);
    if ((e3 & 3) === ENTRY_LEAF) {
      if (e3 & ENTRY_W) {
        mmu.setHugeWritable(PG_LEVEL_1G, g * G1_PAGES, false);
        ledger.charge(CostId.spte_wrprot_ns);
        changed = true;
      }
      continue;
    }
    if ((e3 & 3) !== ENTRY_TABLE) continue;
    const r0 = Math.max(g * 512, Math.floor(start / R2));
    const r1 = Math.min(g * 512 + 512, Math.ceil(end / R2));
    for (let r = r0; r < r1; r++) {
      const e2 = mmu.l2[r]!;
      ledger.charge(CostId.spte_walk_ns);
      if ((e2 & 3) === ENTRY_LEAF) {
        if (e2 & ENTRY_W) {
          mmu.setHugeWritable(PG_LEVEL_2M, r * R2, false);
          ledger.charge(CostId.spte_wrprot_ns);
          changed = true;
        }
      } else if ((e2 & 3) === ENTRY_TABLE && minLevel === PG_LEVEL_4K) {
        const lo = Math.max(start, r * R2);
        const hi = Math.min(end, r * R2 + R2);
        if (lo === r * R2 && hi === r * R2 + R2) {
          const nW = mmu.writable.chunkCount(r);
          ledger.charge(CostId.spte_walk_ns, R2 - nW);
          if (nW > 0) {
            ledger.charge(CostId.spte_wrprot_ns, nW);
            mmu.writable.setChunkUniform(r, false);
            changed = true;
          }
        } else {
          const n = mmu.writable.clearRange(lo, hi);
          ledger.charge(CostId.spte_walk_ns, hi - lo - n);
          ledger.charge(CostId.spte_wrprot_ns, n);
          if (n > 0) changed = true;
        }
      }
    }
  }
  return changed;
}

/**
 * `kvm_tdp_mmu_clear_dirty_pt_masked` / write-protect masked: for the 4K leaves of one region selected by `mask`
 * (16 words, bit i = gfn regionGfn + i), make the next write tracked again. Huge leaves are skipped, as in the
 * kernel. Returns the number of present leaves touched.
 */
export function kvmTdpMmuClearDirtyPtMasked(kvm: Kvm, regionGfn: Gfn, mask: Uint32Array, acct: MmuAccount): number {
  const mmu = kvm.mmu;
  const r = regionGfn / R2;
  if ((mmu.l3[Math.floor(r / 512)]! & 3) !== ENTRY_TABLE || (mmu.l2[r]! & 3) !== ENTRY_TABLE) return 0;
  mmu.present.readChunk(r, P);
  mmu.writable.readChunk(r, W);
  let touched = 0;
  for (let w = 0; w < CHUNK_WORDS; w++) {
    const m = (mask[w]! & P[w]!) >>> 0;
    touched += popcount32(m);
    W[w] = (W[w]! & ~m) >>> 0;
  }
  if (touched > 0) {
    acct.ledger.charge(CostId.spte_wrprot_ns, touched);
    mmu.writable.writeChunk(r, W);
  }
  return touched;
}
