/**
 * Kinds of EPT/NPT-violation exits the model distinguishes (the `kvm:kvm_page_fault` tracepoint sees them all):
 * - `fast`: a write to a write-protected SPTE fixed locklessly by `fast_page_fault`;
 * - `slow_wp`: the same write handled by the slow path (kernels without the TDP MMU fast path);
 * - `not_present`: the gfn has no SPTE; the slow path maps it (at 4K while the slot is dirty-logged);
 * - `split_on_fault`: a write to a write-protected huge SPTE while logging: the huge SPTE is zapped and only the
 *   faulting 4 KiB page is mapped (lazy split, when eager page splitting is off);
 * - `refault`: a not-present fault on a region that disabling dirty logging zapped, mapping it huge again (the
 *   EPT-violation storm after `zap`).
 */
export const FAULT_KINDS = ['fast', 'slow_wp', 'not_present', 'split_on_fault', 'refault'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
