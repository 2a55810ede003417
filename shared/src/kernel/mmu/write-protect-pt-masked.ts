import { maskCount } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import type { Kvm } from './kvm.js';
import type { Gfn } from './pg-level.js';
import type { MmuAccount } from './tdp-mmu.js';
import { kvmTdpMmuClearDirtyPtMasked } from './wrprot.js';

/**
 * The shadow MMU's part of `kvm_arch_mmu_enable_log_dirty_pt_masked`, `kvm_mmu_write_protect_pt_masked` (or, with
 * PML, `kvm_mmu_clear_dirty_pt_masked`): for each bit of `mask` (16 words, bit i = gfn regionGfn + i), the gfn's 4K
 * rmap head (`gfn_to_rmap(gfn, PG_LEVEL_4K, slot)`) and, when an SPTE is there, `rmap_write_protect` /
 * `__rmap_clear_dirty` on it: per-4K work where the TDP MMU walks one table. Returns the present leaves touched.
 */
export function kvmMmuWriteProtectPtMasked(kvm: Kvm, regionGfn: Gfn, mask: Uint32Array, acct: MmuAccount): number {
  acct.ledger.charge(CostId.rmap_walk_ns, maskCount(mask));
  // The leaves' state change and its per-SPTE cost are the TDP MMU's (the same 4K SPTEs, reached through rmaps).
  const touched = kvmTdpMmuClearDirtyPtMasked(kvm, regionGfn, mask, acct);
  if (touched > 0) acct.ledger.charge(CostId.rmap_spte_ns, touched);
  return touched;
}
