import { z } from 'zod';

/**
 * The named per-operation costs of the model, in nanoseconds of the thread that does the work (the ioctl thread for
 * memslot updates and GET/CLEAR, a vCPU thread for faults and guest accesses). Every simulated duration is a sum of
 * (count × cost) over these names; the ledger (cost-ledger.ts) keeps the counts, so the calibration can solve for the
 * fitted constants and every printed time can be explained term by term.
 */
export const COST_KEYS = [
  'memslot_update_ns',
  'ioctl_ns',
  'tlb_flush_base_ns',
  'tlb_flush_per_vcpu_ns',
  'tlb_flush_per_running_vcpu_ns',
  'spte_walk_ns',
  'spte_wrprot_ns',
  'rmap_walk_ns',
  'rmap_spte_ns',
  'leaf_zap_ns',
  'nonleaf_spte_replace_ns',
  'child_spte_teardown_ns',
  'child_spte_teardown_nonpresent_ns',
  'sp_alloc_ns',
  'sp_free_ns',
  'split_child_spte_ns',
  'dirty_log_word_ns',
  'dirty_bitmap_copy_ns_per_kib',
  'fault_fast_ns',
  'fault_slow_wp_ns',
  'fault_not_present_ns',
  'shadow_fault_locked_ns',
  'pml_logged_write_ns',
  'guest_access_4k_ns',
  'guest_access_huge_ns',
  'host_alloc_4k_ns',
  'host_zero_ns_per_mib',
  'flush_vcpu_stall_ns',
  'vcpu_sync_ns',
] as const;

export type CostKey = (typeof COST_KEYS)[number];

/** Index of each cost in a ledger's count vector. */
export const CostId: { readonly [K in CostKey]: number } = Object.fromEntries(COST_KEYS.map((k, i) => [k, i])) as {
  readonly [K in CostKey]: number;
};

/** Parameters of the profile that are not per-operation costs. */
export interface ProfileParameters {
  /**
   * Simulated time between two yields (`tdp_mmu_iter_cond_resched`) of a long walk on the ioctl thread; batched
   * strategies flush remote TLBs at each yield.
   */
  cond_resched_interval_ns: number;
}

export type CostValues = { readonly [K in CostKey]: number };

export interface CostProfile {
  readonly name: string;
  readonly costs: CostValues;
  readonly params: ProfileParameters;
  /** costs as a vector indexed by CostId, for the ledger's hot path. */
  readonly vector: Float64Array;
}

/** Where a constant comes from: a fit to a measured point of the reference, or an assumption with its reason. */
export type Provenance =
  | { readonly kind: 'fitted'; readonly points: readonly string[]; readonly derivation: string }
  | { readonly kind: 'assumption'; readonly rationale: string };

export interface CostDescription {
  readonly unit: 'ns' | 'ns/KiB' | 'ns/MiB';
  readonly what: string;
  readonly provenance: Provenance;
}

export function makeProfile(name: string, costs: CostValues, params: ProfileParameters): CostProfile {
  const vector = new Float64Array(COST_KEYS.length);
  COST_KEYS.forEach((k, i) => {
    vector[i] = costs[k];
  });
  return { name, costs: Object.freeze({ ...costs }), params: Object.freeze({ ...params }), vector };
}

const nonNegative = z.number().finite().nonnegative();

/** A profile file: any subset of the costs and parameters, merged over a base profile. Unknown keys are errors. */
export const profileOverridesSchema = z
  .object({
    name: z.string().min(1).optional(),
    base: z.string().min(1).optional(),
    costs: z.object(Object.fromEntries(COST_KEYS.map((k) => [k, nonNegative.optional()]))).strict().optional(),
    params: z.object({ cond_resched_interval_ns: z.number().finite().positive().optional() }).strict().optional(),
  })
  .strict();

export type ProfileOverrides = z.infer<typeof profileOverridesSchema>;

export function applyOverrides(base: CostProfile, overrides: ProfileOverrides, name?: string): CostProfile {
  const costs = { ...base.costs } as Record<CostKey, number>;
  for (const [k, v] of Object.entries(overrides.costs ?? {})) if (v !== undefined) costs[k as CostKey] = v;
  const params = { ...base.params };
  if (overrides.params?.cond_resched_interval_ns !== undefined) {
    params.cond_resched_interval_ns = overrides.params.cond_resched_interval_ns;
  }
  return makeProfile(name ?? overrides.name ?? `${base.name}+overrides`, costs, params);
}
