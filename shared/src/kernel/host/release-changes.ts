import type { NxAdjust, SplitOnFault, ZapLeafFlush } from '../mmu/mmu-behaviours.js';
import { compareKernelVersions, parseKernelVersion, type KernelVersion } from './kernel-version.js';

/**
 * One change of an x86 KVM behaviour: from release `since` on (until the next change), the behaviour is `value`.
 * `commit` is the mainline commit that made the change (null for the state of the oldest release modelled);
 * `what` says what the code does, naming the functions. Established by reading `arch/x86/kvm/mmu/{mmu.c,
 * tdp_mmu.c}` and `arch/x86/kvm/x86.c` in trees of known versions (5.10.89, 5.12.9, 5.14-rc5, 5.15.100, 5.17-rc5,
 * 5.19.0, 6.0-rc1, 6.1.20, 6.2.1, 6.3.8, 6.6.9, 6.12.19, 6.13.7, 6.18.2, 6.19.0); "inferred" marks a first release
 * taken from neighbouring trees and the merge's pull request. See docs/model.md, "Kernel releases".
 */
export interface ReleaseChange<T> {
  readonly since: string;
  readonly value: T;
  readonly commit: string | null;
  readonly what: string;
}

/** The TDP MMU's disable of dirty logging in a release (migsim strategy names). */
export type TdpDisable = 'zap-leaf' | 'zap' | 'promote';

export const RELEASE_CHANGES = {
  /** `kvm.tdp_mmu`'s default. */
  tdpMmuDefault: [
    { since: '5.10', value: false, commit: null, what: 'TDP MMU opt-in (kvm.tdp_mmu=N by default); the shadow MMU with rmaps serves EPT/NPT guests' },
    { since: '5.15', value: true, commit: '71ba3f3189c7 ("KVM: x86: enable TDP MMU by default")', what: 'kvm.tdp_mmu=Y by default (5.15.y stable reverted it around 5.15.128: 7e546bd08943; read-only at runtime from 6.3)' },
  ],
  /** `fast_page_fault` (lockless cmpxchg) for write-protection faults on TDP MMU roots; the shadow MMU always had it. */
  tdpFastPageFault: [
    { since: '5.10', value: false, commit: null, what: 'kvm_mmu_page_fault skips fast_page_fault for TDP MMU roots: every write-protection fault takes the slow path (mmu_lock)' },
    { since: '5.15', value: true, commit: '6e8eb2060cc7 ("KVM: x86/mmu: fast_page_fault support for the TDP MMU")', what: 'kvm_tdp_mmu_fast_pf_get_last_sptep: TDP MMU write-protection faults fixed locklessly' },
  ],
  /** Whether `kvm.eager_page_split` exists (default Y; TDP MMU only). */
  eagerPageSplit: [
    { since: '5.10', value: false, commit: null, what: 'no eager page splitting: huge pages are split on the first write fault' },
    { since: '5.18', value: true, commit: 'a3fe5dbda0a4 ("KVM: x86/mmu: Split huge pages mapped by the TDP MMU when dirty logging is enabled"; release inferred)', what: 'kvm_mmu_slot_try_split_huge_pages at enable (or in CLEAR with initially-set); kvm.eager_page_split=Y, TDP MMU only' },
  ],
  /** A write fault on a huge SPTE while logging, eager split off. */
  splitOnFault: [
    { since: '5.10', value: 'zap-map-4k' as SplitOnFault, commit: null, what: 'kvm_tdp_mmu_map zaps the huge SPTE (with a flush), links an empty table and maps only the faulting 4K page' },
    { since: '6.2', value: 'in-place' as SplitOnFault, commit: 'c4b33d28ea51 ("KVM: x86/mmu: Split huge pages mapped by the TDP MMU on fault")', what: 'tdp_mmu_split_huge_page fills the child table from the huge SPTE: no not-present refaults (the shadow MMU still zaps and maps 4K)' },
  ],
  /** `disallowed_hugepage_adjust` with the NX huge-page mitigation on. */
  nxAdjust: [
    { since: '5.10', value: 'any-nonleaf' as NxAdjust, commit: null, what: 'a fault is forced below any present non-leaf SPTE at its goal level: after a leaf-only zap, refaults map 4K and huge pages never come back' },
    { since: '6.2', value: 'nx-child-only' as NxAdjust, commit: '76901e56fb51 ("KVM: x86/mmu: explicitly check nx_hugepage in disallowed_hugepage_adjust()")', what: 'forced down only below a page table the NX workaround created (spte_to_child_sp(spte)->nx_huge_page_disallowed)' },
  ],
  /** How the TDP MMU disables dirty logging (kvm_mmu_slot_apply_flags). */
  tdpDisable: [
    { since: '5.10', value: 'zap-leaf' as TdpDisable, commit: null, what: 'zap_collapsible_spte_range: every collapsible 4K leaf zapped (tdp_mmu_set_spte), mmu_lock held for write, one flush at the end and before yields' },
    { since: '5.13', value: 'zap-leaf' as TdpDisable, commit: '2db6f772b530 ("KVM: x86/mmu: Allow zapping collapsible SPTEs to use MMU read lock"; release inferred)', what: 'the same walk under the read lock, each leaf zapped with tdp_mmu_zap_spte_atomic: freeze, remote flush, clear (one flush per leaf; point a)' },
    { since: '5.19', value: 'zap' as TdpDisable, commit: '5ba7c4c6d1c7 ("KVM: x86/MMU: Zap non-leaf SPTEs when disabling dirty logging")', what: 'on a collapsible leaf the walk steps up and zaps the non-leaf SPTE of the huge region (freeze, flush, clear): one flush per region, still walking down to leaves' },
    { since: '6.0', value: 'zap' as TdpDisable, commit: '85f44f8cc07b ("KVM: x86/mmu: Don\'t bottom out on leafs when zapping collapsible SPTEs")', what: 'for_each_tdp_pte_min_level(PG_LEVEL_2M): non-leaf SPTEs zapped per huge region without visiting leaves; one flush per region (point b, zap)' },
    { since: '6.13', value: 'promote' as TdpDisable, commit: '13e2e4f62a4b ("KVM: x86/mmu: Recover TDP MMU huge page mappings in-place instead of zapping")', what: 'kvm_tdp_mmu_recover_huge_pages: huge SPTEs built in place (make_huge_spte), one flush per memslot and at yields. Batched zapping (35ef80eb29ab) shipped in the same release, so no release disabled with it alone' },
  ],
  /** Flushes of the TDP MMU's leaf-by-leaf zap. */
  zapLeafFlush: [
    { since: '5.10', value: 'batched' as ZapLeafFlush, commit: null, what: 'tdp_mmu_iter_cond_resched(kvm, &iter, spte_set): a flush before each yield and one at the end' },
    { since: '5.13', value: 'per-leaf' as ZapLeafFlush, commit: '2db6f772b530 (release inferred)', what: 'a remote flush per zapped leaf (tdp_mmu_zap_spte_atomic)' },
  ],
  /** Whether the non-leaf zap still walks down to the leaves first (5.19 only). */
  zapWalksLeaves: [
    { since: '5.10', value: true, commit: null, what: 'the collapsible walk visits every leaf' },
    { since: '6.0', value: false, commit: '85f44f8cc07b', what: 'the walk stops at PG_LEVEL_2M' },
  ],
  /** The highest level of SPTEs the shadow MMU's rmap zap collapses (kvm_rmap_zap_collapsible_sptes). */
  rmapZapMaxLevel: [
    { since: '5.10', value: 1, commit: null, what: 'slot_handle_leaf / slot_handle_level_4k: 4K rmaps only, mmu_lock for write, flush before yields and at the end' },
    { since: '6.0', value: 2, commit: 'Matlack, "KVM: x86/mmu: Zap collapsible SPTEs in shadow MMU at all possible levels" (5.20/6.0 pull)', what: 'walk_slot_rmaps(PG_LEVEL_4K .. KVM_MAX_HUGEPAGE_LEVEL - 1): 4K and 2M rmaps' },
  ],
  /** Whether NX huge-page recovery leaves dirty-logged memslots alone. */
  nxRecoverySkipsLogged: [
    { since: '5.10', value: false, commit: null, what: 'kvm_recover_nx_lpages zaps NX-split pages in any memslot' },
    { since: '6.2', value: true, commit: 'eb298605705a ("KVM: x86/mmu: Do not recover dirty-tracked NX Huge Pages")', what: 'pages in dirty-logged memslots are skipped' },
  ],
} as const;

export type ReleaseBehaviour = keyof typeof RELEASE_CHANGES;

/** The change in effect at `release`: the last one whose `since` is not newer. */
export function changeAt<T>(changes: readonly ReleaseChange<T>[], release: KernelVersion): ReleaseChange<T> {
  let hit: ReleaseChange<T> | undefined;
  for (const c of changes) if (compareKernelVersions(parseKernelVersion(c.since)!, release) <= 0) hit = c;
  if (!hit) throw new RangeError(`no behaviour recorded for ${release.major}.${release.minor}`);
  return hit;
}
