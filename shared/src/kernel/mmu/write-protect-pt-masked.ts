import { CHUNK_WORDS, maskCount, popcount32 } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import type { Kvm } from './kvm.js';
import type { Gfn } from './pg-level.js';
import { ENTRY_TABLE, R2, type MmuAccount } from './tdp-mmu.js';

const P = new Uint32Array(CHUNK_WORDS);
const W = new Uint32Array(CHUNK_WORDS);

/**
 * The shadow MMU's part of `kvm_arch_mmu_enable_log_dirty_pt_masked`, `kvm_mmu_write_protect_pt_masked` (or, with
 * PML, `kvm_mmu_clear_dirty_pt_masked`): for each bit of `mask` (16 words, bit i = gfn regionGfn + i), the gfn's 4K
 * rmap head (`gfn_to_rmap(gfn, PG_LEVEL_4K, slot)`) and, when an SPTE is there, `rmap_write_protect` /
 * `__rmap_clear_dirty` on it: per-4K work where the TDP MMU walks one table. Returns the present leaves touched.
 */
export function kvmMmuWriteProtectPtMasked(kvm: Kvm, regionGfn: Gfn, mask: Uint32Array, acct: MmuAccount): number {
  const mmu = kvm.mmu;
  const r = regionGfn / R2;
  acct.ledger.charge(CostId.rmap_walk_ns, maskCount(mask));
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
    acct.ledger.charge(CostId.rmap_spte_ns, touched);
    acct.ledger.charge(CostId.spte_wrprot_ns, touched);
    mmu.writable.writeChunk(r, W);
  }
  return touched;
}
