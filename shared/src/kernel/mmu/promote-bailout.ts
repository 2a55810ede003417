/**
 * Reasons in-place promotion gives up on a region, as the checks of `try_promote_lpage` in Ben Gardon's series
 * (v1 patch 15/15; v2 9/9 adds the invalid-pfn check). Each falls back to zapping the region.
 * - `mmu_notifier_in_progress`: `kvm->mmu_notifier_count != 0`, a host invalidation is running;
 * - `pfn_not_mappable`: `iter->level > kvm_mmu_max_mapping_level(...)`: the host split the backing page (e.g. a THP
 *   split during the migration), so the region can no longer be mapped huge;
 * - `memtype_needs_vcpu`: `kvm_x86_try_get_mt_mask()` fails: the memory type depends on vCPU state (guest MTRRs with
 *   non-coherent DMA);
 * - `invalid_pfn`: `is_error_noslot_pfn(pfn)`.
 */
export const PROMOTE_BAILOUTS = ['mmu_notifier_in_progress', 'pfn_not_mappable', 'memtype_needs_vcpu', 'invalid_pfn'] as const;
export type PromoteBailout = (typeof PROMOTE_BAILOUTS)[number];

/** Per-region likelihood of each bail-out when promotion is tried (VM / host parameters, 0 by default). */
export type BailoutLikelihoods = { readonly [K in PromoteBailout]: number };

export const NO_BAILOUTS: BailoutLikelihoods = {
  mmu_notifier_in_progress: 0,
  pfn_not_mappable: 0,
  memtype_needs_vcpu: 0,
  invalid_pfn: 0,
};
