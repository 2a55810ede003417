import { makeProfile, type CostDescription, type CostKey, type CostProfile, type CostValues } from './cost-profile.js';

/**
 * The default cost profile. Constants marked `fitted` are solved by `npm run calibrate`
 * (shared/src/kernel/calibration/) so that the model reproduces the measured points a–d of
 * ../shared/reference/kvm-dirty-logging.md §8 exactly; the values below are that solver's output, and a test
 * fails when they drift from it. The others are assumptions, each with its reason. Points come from different
 * hosts and kernels, so a fitted constant carries whatever its point's host added.
 */
export const DEFAULT_COSTS: CostValues = {
  memslot_update_ns: 1680631.59456,
  ioctl_ns: 2_000,
  tlb_flush_base_ns: 707.405443128,
  tlb_flush_per_vcpu_ns: 10,
  tlb_flush_per_running_vcpu_ns: 1116.80145715,
  spte_walk_ns: 5,
  spte_wrprot_ns: 10,
  rmap_walk_ns: 5,
  rmap_spte_ns: 15,
  leaf_zap_ns: 150,
  nonleaf_spte_replace_ns: 8134.61372586,
  child_spte_teardown_ns: 55.0547636603,
  child_spte_teardown_nonpresent_ns: 10,
  sp_alloc_ns: 250,
  sp_free_ns: 200,
  split_child_spte_ns: 50.7935901268,
  dirty_log_word_ns: 60,
  dirty_bitmap_copy_ns_per_kib: 100,
  fault_fast_ns: 1122.35300064,
  fault_slow_wp_ns: 13443.9219055,
  fault_not_present_ns: 11148.8747436,
  shadow_fault_locked_ns: 2_000,
  pml_logged_write_ns: 476.792251587,
  guest_access_4k_ns: 80,
  guest_access_huge_ns: 40,
  host_alloc_4k_ns: 1_000,
  host_zero_ns_per_mib: 100_000,
  flush_vcpu_stall_ns: 2_000,
  vcpu_sync_ns: 20_000,
};

export const DEFAULT_PARAMS = { cond_resched_interval_ns: 63509532.3039 };

const fitted = (points: string[], derivation: string) => ({ kind: 'fitted', points, derivation }) as const;
const assumption = (rationale: string) => ({ kind: 'assumption', rationale }) as const;

/** What each constant is and where its value comes from. */
export const COST_DESCRIPTIONS: { readonly [K in CostKey]: CostDescription } = {
  memslot_update_ns: {
    unit: 'ns',
    what: 'KVM_SET_USER_MEMORY_REGION flags-only update of one memslot (copy, swap, synchronize_srcu)',
    provenance: fitted(['c'], 'enable with eager split off (0.001683739 s) minus write-protecting 96 1G SPTEs and one flush'),
  },
  ioctl_ns: { unit: 'ns', what: 'fixed cost of a GET/CLEAR_DIRTY_LOG ioctl', provenance: assumption('syscall entry, slot lookup, argument copy: a few µs') },
  tlb_flush_base_ns: {
    unit: 'ns',
    what: 'remote TLB flush (kvm_flush_remote_tlbs), fixed part',
    provenance: fitted(['a'], 'zap-leaf disable, 45.738 s over 25,165,824 leaf zaps each with a flush of 96 idle vCPUs, less leaf_zap_ns and 96 × tlb_flush_per_vcpu_ns'),
  },
  tlb_flush_per_vcpu_ns: {
    unit: 'ns',
    what: 'remote TLB flush, per vCPU of the VM (request bit, kvm_make_vcpu_request)',
    provenance: assumption('an atomic set_bit and barrier per vCPU; splits point a between fixed and per-vCPU parts'),
  },
  tlb_flush_per_running_vcpu_ns: {
    unit: 'ns',
    what: 'remote TLB flush, per vCPU in guest mode (IPI, wait for the exit)',
    provenance: fitted(['b'], '(14.334 s − 4.795 s) / (131,072 − 76) ≈ 72.8 µs per flush with 64 running vCPUs, less the idle part'),
  },
  spte_walk_ns: { unit: 'ns', what: 'one tdp_iter step over an SPTE that is not changed', provenance: assumption('a cached 8-byte read and a few branches') },
  spte_wrprot_ns: {
    unit: 'ns',
    what: 'write-protect (or D-clear, with PML) one leaf SPTE',
    provenance: assumption('an atomic bit clear on a leaf the walk already holds'),
  },
  rmap_walk_ns: {
    unit: 'ns',
    what: 'one rmap head of a shadow-MMU slot walk (slot_handle_level / walk_slot_rmaps → slot_rmap_walk_next), one per gfn and level walked',
    provenance: assumption('a sequential 8-byte read of the rmap array and a test for an empty list, as spte_walk_ns; no legacy-vs-TDP figure was found to fit it'),
  },
  rmap_spte_ns: {
    unit: 'ns',
    what: 'one rmap entry: reach its SPTE from the rmap head (rmap_get_first / rmap_get_next) or unlink it (pte_list_remove)',
    provenance: assumption('a dependent load into the shadow page holding the SPTE; consecutive gfns share one 4 KiB page of SPTEs, so mostly cached: a few times spte_walk_ns'),
  },
  leaf_zap_ns: {
    unit: 'ns',
    what: 'zap one leaf SPTE in the 2021 collapsible walk, incl. kvm_mmu_max_mapping_level (flush not included)',
    provenance: assumption('freeze + handle_changed_spte of a leaf + a host page-table lookup; the rest of point a is the flush'),
  },
  nonleaf_spte_replace_ns: {
    unit: 'ns',
    what: 'zap or replace one collapsible non-leaf SPTE (max-mapping-level check, freeze or cmpxchg), children not included',
    provenance: fitted(['b'], 'zap-batched disable, 4.795 s over 131,072 2M regions, less 512 child teardowns per region and 76 flushes'),
  },
  child_spte_teardown_ns: {
    unit: 'ns',
    what: 'tear down one present child SPTE of a removed page table (handle_removed_pt → handle_changed_spte)',
    provenance: fitted(['a'], 'promote disable, 1.4005 s over 25,165,824 4K children (≈ 55.7 ns each) less table frees and per-region work'),
  },
  child_spte_teardown_nonpresent_ns: {
    unit: 'ns',
    what: 'tear down one non-present entry of a removed page table',
    provenance: assumption('the same freeze without stats or A/D propagation, about a fifth of a present child'),
  },
  sp_alloc_ns: { unit: 'ns', what: 'allocate and link one page-table page', provenance: assumption('kmem_cache_alloc + a zeroed page from the MMU cache') },
  sp_free_ns: { unit: 'ns', what: 'free one page-table page (RCU callback)', provenance: assumption('call_rcu + free_page, amortised') },
  split_child_spte_ns: {
    unit: 'ns',
    what: 'write one child SPTE when splitting a huge page',
    provenance: fitted(['c'], 'enable with eager split (1.5469 s) less the enable without it, over 96 × (512 + 262,144) children, after table allocation and write-protection'),
  },
  dirty_log_word_ns: {
    unit: 'ns',
    what: 'one 64-page word of a GET (classic) / CLEAR bitmap with bits set (atomic fetch-andnot, masked walk setup)',
    provenance: assumption('not measured in the reference; about the cost of one short tdp_iter walk'),
  },
  dirty_bitmap_copy_ns_per_kib: { unit: 'ns/KiB', what: 'copy_to_user of the dirty bitmap', provenance: assumption('about 10 GB/s') },
  fault_fast_ns: {
    unit: 'ns',
    what: 'write-protection fault fixed by fast_page_fault (exit, lockless cmpxchg, re-entry)',
    provenance: fitted(['d'], 'iteration 2 dirty memory 0.315 s / 262,144 pages per vCPU, less the guest access'),
  },
  fault_slow_wp_ns: {
    unit: 'ns',
    what: 'write-protection fault on the slow path (mmu_lock, memslot lookup)',
    provenance: fitted(['d'], 'iteration 2 dirty memory 3.545 s / 262,144 pages per vCPU, less the guest access'),
  },
  fault_not_present_ns: {
    unit: 'ns',
    what: 'not-present EPT/NPT violation mapped by the slow path (host memory already allocated)',
    provenance: fitted(['c'], 'iteration 1 dirty memory without eager split, 2.944 s / 262,144 faults per vCPU, less the guest access and table links'),
  },
  shadow_fault_locked_ns: {
    unit: 'ns',
    what: 'the part of a shadow-MMU slow-path fault run with mmu_lock held for write (direct_map: walk, link shadow pages, mmu_set_spte, rmap_add); faults of all vCPUs serialize on it',
    provenance: assumption('about a fifth of fault_not_present_ns: the exit, the memslot lookup and kvm_faultin_pfn run before direct_page_fault takes the lock. No published shadow-MMU fault figure was found to fit it (see docs/model.md)'),
  },
  pml_logged_write_ns: {
    unit: 'ns',
    what: 'first write to a D-clean 4K page with PML (hardware D update + log entry + amortised PML-full exit)',
    provenance: fitted(['c'], 'iteration 1 dirty memory with eager split, 0.146 s / 262,144 pages per vCPU, less the guest access'),
  },
  guest_access_4k_ns: {
    unit: 'ns',
    what: 'memstress touches one new page mapped 4K (TLB miss with a 2D walk, cache miss)',
    provenance: assumption('about one DRAM latency'),
  },
  guest_access_huge_ns: { unit: 'ns', what: 'the same on a huge mapping (fewer TLB misses)', provenance: assumption('half the 4K cost') },
  host_alloc_4k_ns: { unit: 'ns', what: 'host allocates and zeroes a 4K anonymous page on first touch', provenance: assumption('a host page fault, ~1 µs') },
  host_zero_ns_per_mib: {
    unit: 'ns/MiB',
    what: 'host zeroes a huge page on first touch (hugetlb or THP)',
    provenance: assumption('clear_huge_page at about 10 GiB/s'),
  },
  flush_vcpu_stall_ns: {
    unit: 'ns',
    what: 'time a running vCPU loses to one remote-flush IPI (exit, INVEPT, re-entry, TLB refill)',
    provenance: assumption('a VM exit round trip plus refill, ~2 µs'),
  },
  vcpu_sync_ns: {
    unit: 'ns',
    what: 'end of a memstress pass: GUEST_SYNC ucall exit and the main thread noticing',
    provenance: assumption('an exit to userspace and a polling loop, tens of µs'),
  },
};

export const DEFAULT_PROFILE: CostProfile = makeProfile('default', DEFAULT_COSTS, DEFAULT_PARAMS);
