/** How a write fault on a write-protected huge SPTE is handled while logging, eager split off. */
export type SplitOnFault = 'zap-map-4k' | 'in-place';
/** Below which non-leaf SPTEs the NX huge-page mitigation forces a fault down a level (`disallowed_hugepage_adjust`). */
export type NxAdjust = 'any-nonleaf' | 'nx-child-only';
/** When the TDP MMU's leaf-by-leaf zap (`zap-leaf`) flushes remote TLBs. */
export type ZapLeafFlush = 'batched' | 'per-leaf';

/**
 * What the MMU models need to know about the host's KVM: which MMU serves the guest, its module parameters and the
 * release-keyed behaviours they follow. The models take these flags as they are and never a release:
 * `kernel/host/resolve-kvm-host.ts` resolves them from a release, a CPU and overrides, citing each commit.
 */
export interface MmuBehaviours {
  /** `kvm.tdp_mmu`: the TDP MMU (true) or the shadow MMU with rmaps (false) maps the EPT/NPT guest. */
  readonly tdpMmu: boolean;
  /** `kvm.eager_page_split` (5.18+, TDP MMU only). */
  readonly eagerPageSplit: boolean;
  /** `kvm_intel.pml`: 4K SPTEs are tracked by clearing D bits, not by write protection. */
  readonly pml: boolean;
  /** `fast_page_fault` for write-protection faults (the shadow MMU always has it; the TDP MMU from 5.15). */
  readonly fastPageFault: boolean;
  /** The NX huge-page mitigation (`kvm.nx_huge_pages`) is on. */
  readonly nxHugePages: boolean;
  /** `disallowed_hugepage_adjust`: below any present non-leaf SPTE (before 6.2) or only NX-created ones (6.2+). */
  readonly nxAdjust: NxAdjust;
  /** A write to a write-protected huge SPTE while logging: zap and map 4K, or split in place (TDP MMU, 6.2+). */
  readonly splitOnFault: SplitOnFault;
  /** `zap-leaf`'s flushes: batched under the write lock (5.10 - 5.12) or one per zapped leaf (5.13+). */
  readonly zapLeafFlush: ZapLeafFlush;
  /** `zap` walks down to the leaves before stepping up to zap (5.19) rather than stopping at 2M (6.0+). */
  readonly zapWalksLeaves: boolean;
  /** Highest level of SPTEs the shadow MMU's rmap zap collapses: 1 (4K rmaps, up to 5.19) or 2 (4K and 2M, 6.0+). */
  readonly rmapZapMaxLevel: 1 | 2;
}

/**
 * Whether refaults are forced to 4K below the page tables a leaf-only zap leaves behind: the mitigation is on and
 * `disallowed_hugepage_adjust` still adjusts below any present non-leaf SPTE (before 76901e56fb51, 6.2). From 6.2
 * only page tables created by the NX workaround itself (exec faults, which the model has none of) force a fault down.
 */
export function nxForcesSmall(b: Pick<MmuBehaviours, 'nxHugePages' | 'nxAdjust'>): boolean {
  return b.nxHugePages && b.nxAdjust === 'any-nonleaf';
}
