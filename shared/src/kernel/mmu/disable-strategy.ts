/**
 * How disabling dirty logging brings huge pages back (`kvm_mmu_slot_apply_flags` with the flag cleared):
 * - `zap-leaf`: the 2021 TDP MMU: zap each collapsible leaf SPTE, one remote TLB flush per zap;
 * - `zap`: Linux 6.0 - 6.12 (`kvm_tdp_mmu_zap_collapsible_sptes`): zap the collapsible non-leaf SPTE at the highest
 *   possible level, freezing it and flushing per zap;
 * - `zap-batched`: Linux 6.13: the same zaps, flushes batched at yields and at the end of the memslot;
 * - `promote`: in-place promotion (Ben Gardon's 2021 series; upstream 6.13 `kvm_tdp_mmu_recover_huge_pages`):
 *   install the huge SPTE over the page table, tear down the child tables, batched flush.
 * After a zap, vCPUs refault each collapsed region; after promotion they do not.
 */
export const DISABLE_STRATEGIES = ['zap-leaf', 'zap', 'zap-batched', 'promote'] as const;
export type DisableStrategy = (typeof DISABLE_STRATEGIES)[number];
