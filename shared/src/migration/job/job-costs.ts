import type { DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import type { LoggingCosts } from '../precopy/logging-costs.js';
import type { GuestImpact, HostCpu, MmuBlock } from './migration-result.js';
import { mmuBlocks, type DisableContext } from './mmu-blocks.js';

/** What a job measured outside the MMU operations: host CPU of the stream, guest time in vCPU-seconds. */
export interface JobCostParts {
  readonly migrationThreadS: number;
  readonly downtimeS: number;
  readonly ept4kS: number;
  readonly throttlingS: number;
  readonly enableBqlS: number;
  readonly postcopyFaultsS: number;
}

/** A job's whole cost, strategy-independent, and its MMU blocks. */
export interface JobCosts<M> {
  readonly hostCpu: HostCpu;
  readonly guestImpact: GuestImpact;
  readonly mmu: M;
}

/**
 * A job's whole cost: the components as the host ran them (host CPU of the migration thread, dirty tracking, enable
 * and splits; guest downtime, 4K-EPT slowdown, throttling, tracking faults, flush stalls while logging, BQL waits
 * during the enable, post-copy faults) and, per strategy, the MMU block with the disable's share. With
 * `counterfactuals` false the MMU blocks are not evaluated (`mmu` is null); the rest is the same.
 */
export function jobCosts(costs: LoggingCosts, disable: DisableContext | null, parts: JobCostParts): JobCosts<Record<DisableStrategy, MmuBlock>>;
export function jobCosts(costs: LoggingCosts, disable: DisableContext | null, parts: JobCostParts, counterfactuals: boolean): JobCosts<Record<DisableStrategy, MmuBlock> | null>;
export function jobCosts(
  costs: LoggingCosts,
  disable: DisableContext | null,
  parts: JobCostParts,
  counterfactuals: boolean = true,
): JobCosts<Record<DisableStrategy, MmuBlock> | null> {
  const host = costs.inEffect;
  const hostCpu: HostCpu = {
    migration_thread_s: parts.migrationThreadS,
    dirty_tracking_s: host.trackingNs / 1e9,
    enable_split_s: host.enableSplitNs / 1e9,
    total_s: 0,
  };
  hostCpu.total_s = hostCpu.migration_thread_s + hostCpu.dirty_tracking_s + hostCpu.enable_split_s;
  const guestImpact: GuestImpact = {
    downtime_s: parts.downtimeS,
    ept_4k_s: parts.ept4kS,
    throttling_s: parts.throttlingS,
    dirty_tracking_s: host.trackingStallNs / 1e9,
    flush_stalls_s: host.flushStallNs / 1e9,
    bql_stall_s: parts.enableBqlS,
    postcopy_faults_s: parts.postcopyFaultsS,
    total_s: 0,
  };
  guestImpact.total_s =
    guestImpact.downtime_s +
    guestImpact.ept_4k_s +
    guestImpact.throttling_s +
    guestImpact.dirty_tracking_s +
    guestImpact.flush_stalls_s +
    guestImpact.bql_stall_s +
    guestImpact.postcopy_faults_s;
  if (!counterfactuals) return { hostCpu, guestImpact, mmu: null };
  const independent = {
    hostCpuS: parts.migrationThreadS,
    guestImpactS: parts.downtimeS + parts.ept4kS + parts.throttlingS + parts.enableBqlS + parts.postcopyFaultsS,
  };
  const mmu = mmuBlocks(costs.mmu, disable, (strategy) => costs.of(strategy), independent);
  return { hostCpu, guestImpact, mmu };
}
