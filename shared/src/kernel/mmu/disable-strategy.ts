/**
 * How disabling dirty logging brings huge pages back (`kvm_mmu_slot_apply_flags` with the flag cleared):
 * - `rmap-zap`: the shadow MMU (`kvm.tdp_mmu=0`, every release): `kvm_mmu_zap_collapsible_sptes` walks the memslot's
 *   rmaps (`slot_handle_level` / `walk_slot_rmaps`: 4K rmaps up to 5.19, 4K and 2M from 6.0) with `mmu_lock` held
 *   for write and zaps each collapsible SPTE; page tables stay present; flushes before yields and at the end;
 * - `zap-leaf`: the TDP MMU up to 5.18 (`zap_collapsible_spte_range`): zap each collapsible leaf SPTE, page tables
 *   stay; one flush per zap from 5.13 (2db6f772b530, read lock), batched under the write lock in 5.10 - 5.12;
 * - `zap`: the TDP MMU 5.19 - 6.12 (5ba7c4c6d1c7, 85f44f8cc07b): zap the collapsible non-leaf SPTE at the highest
 *   possible level, freezing it and flushing per zap (5.19 still walks down to the leaves first);
 * - `zap-batched`: the same zaps, flushes batched at yields and at the end of the memslot (35ef80eb29ab). A
 *   counterfactual: 35ef80eb29ab shipped in 6.13 together with 13e2e4f62a4b, so no release disabled logging this way;
 * - `promote`: in-place recovery (Ben Gardon's 2021 series; 6.13+ `kvm_tdp_mmu_recover_huge_pages`, 13e2e4f62a4b):
 *   install the huge SPTE over the page table, tear down the child tables, batched flush.
 * After a zap, vCPUs refault each collapsed region; after promotion they do not.
 */
export const DISABLE_STRATEGIES = ['rmap-zap', 'zap-leaf', 'zap', 'zap-batched', 'promote'] as const;
export type DisableStrategy = (typeof DISABLE_STRATEGIES)[number];

/** The strategies of the TDP MMU (`kvm.tdp_mmu=Y`). */
export const TDP_MMU_STRATEGIES = ['zap-leaf', 'zap', 'zap-batched', 'promote'] as const satisfies readonly DisableStrategy[];
/** The strategy of the shadow MMU (`kvm.tdp_mmu=N`). */
export const SHADOW_MMU_STRATEGIES = ['rmap-zap'] as const satisfies readonly DisableStrategy[];

/** Whether `strategy` is a disable of the TDP MMU (true) or of the shadow MMU (false). */
export function isTdpMmuStrategy(strategy: DisableStrategy): boolean {
  return strategy !== 'rmap-zap';
}

/** The strategies an MMU can disable with: the TDP MMU's four or the shadow MMU's one. */
export function strategiesOfMmu(tdpMmu: boolean): readonly DisableStrategy[] {
  return tdpMmu ? TDP_MMU_STRATEGIES : SHADOW_MMU_STRATEGIES;
}
