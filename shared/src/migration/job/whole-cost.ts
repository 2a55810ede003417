import type { DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import type { MigrationResult } from './migration-result.js';

/** Host CPU of a migration by component (seconds); `migration_thread` is QEMU's own threads outside KVM (the stream, a probe's hashing), the rest MMU work. */
export const HOST_CPU_COMPONENTS = ['migration_thread', 'dirty_tracking', 'enable_split', 'disable'] as const;
export type HostCpuComponent = (typeof HOST_CPU_COMPONENTS)[number];

/**
 * Guest time a migration costs by component (vCPU-seconds). Flush stalls and BQL stalls come twice: while logging
 * (the enable's and the CLEARs' flushes, the enable holding the BQL) and from the disable.
 */
export const GUEST_IMPACT_COMPONENTS = [
  'downtime',
  'ept_4k',
  'throttling',
  'dirty_tracking',
  'flush_stalls',
  'bql_stall',
  'postcopy_faults',
  'disable_flush_stalls',
  'refaults',
  'disable_bql_stall',
] as const;
export type GuestImpactComponent = (typeof GUEST_IMPACT_COMPONENTS)[number];

/**
 * Whether a component depends on the disable strategy: the disable's, and the MMU's logging work (the shadow MMU's
 * under rmap-zap, the TDP MMU's under the others); the rest is the same under every strategy.
 */
/** The components that are the disable's own (its share of the whole cost). */
export const HOST_CPU_OF_DISABLE: Record<HostCpuComponent, boolean> = {
  migration_thread: false,
  dirty_tracking: false,
  enable_split: false,
  disable: true,
};

export const HOST_CPU_BY_STRATEGY: Record<HostCpuComponent, boolean> = {
  migration_thread: false,
  // The MMU's: the same under the TDP MMU's four strategies, the shadow MMU's under rmap-zap.
  dirty_tracking: true,
  enable_split: true,
  disable: true,
};

export const GUEST_IMPACT_OF_DISABLE: Record<GuestImpactComponent, boolean> = {
  downtime: false,
  ept_4k: false,
  throttling: false,
  dirty_tracking: false,
  flush_stalls: false,
  bql_stall: false,
  postcopy_faults: false,
  disable_flush_stalls: true,
  refaults: true,
  disable_bql_stall: true,
};

export const GUEST_IMPACT_BY_STRATEGY: Record<GuestImpactComponent, boolean> = {
  downtime: false,
  ept_4k: false,
  throttling: false,
  // The MMU's (see HOST_CPU_BY_STRATEGY).
  dirty_tracking: true,
  flush_stalls: true,
  bql_stall: false,
  postcopy_faults: false,
  disable_flush_stalls: true,
  refaults: true,
  disable_bql_stall: true,
};

/** One job's whole cost under one strategy, by component. */
export interface WholeCost {
  readonly host_cpu: Record<HostCpuComponent, number>;
  readonly guest_impact: Record<GuestImpactComponent, number>;
}

/**
 * A job's whole cost under `strategy`: the result's MMU-independent `host_cpu` and `guest_impact` parts and the
 * strategy's MMU block's share. Zero for what the result does not model (SimGrid's model).
 */
export function wholeCost(r: MigrationResult, strategy: DisableStrategy): WholeCost {
  const h = r.host_cpu;
  const g = r.guest_impact;
  const b = r.mmu?.[strategy];
  return {
    host_cpu: {
      migration_thread: h?.migration_thread_s ?? 0,
      dirty_tracking: b?.host_cpu.dirty_tracking_s ?? h?.dirty_tracking_s ?? 0,
      enable_split: b?.host_cpu.enable_split_s ?? h?.enable_split_s ?? 0,
      disable: b?.host_cpu.disable_s ?? 0,
    },
    guest_impact: {
      downtime: g?.downtime_s ?? 0,
      ept_4k: g?.ept_4k_s ?? 0,
      throttling: g?.throttling_s ?? 0,
      dirty_tracking: b?.guest_impact.dirty_tracking_s ?? g?.dirty_tracking_s ?? 0,
      flush_stalls: b?.guest_impact.logging_flush_stalls_s ?? g?.flush_stalls_s ?? 0,
      bql_stall: g?.bql_stall_s ?? 0,
      postcopy_faults: g?.postcopy_faults_s ?? 0,
      disable_flush_stalls: b?.guest_impact.flush_stalls_s ?? 0,
      refaults: b?.guest_impact.refaults_s ?? 0,
      disable_bql_stall: b?.guest_impact.bql_stall_s ?? 0,
    },
  };
}
