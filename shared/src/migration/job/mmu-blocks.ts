import type { AggregateDisable } from '../../kernel/mmu-aggregate/aggregate-disable.js';
import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { FAULT_KINDS } from '../../kernel/mmu/fault-kind.js';
import { PROMOTE_BAILOUTS } from '../../kernel/mmu/promote-bailout.js';
import { bqlStallS } from '../precopy/bql-stall.js';
import type { MmuBlock } from './migration-result.js';

const s = (ns: number): number => ns / 1e9;
/** Counters come from expectations; records carry whole numbers. */
const count = (x: number): number => Math.round(x);

/** The disable as it ran on the source: vCPUs in guest mode meanwhile, and the workload's speed afterwards. */
export interface DisableContext {
  readonly running: number;
  readonly rateScale: number;
}

/** The strategy-independent totals of a job's whole cost, s (host CPU) and vCPU-s (guest). */
export interface CommonTotals {
  readonly hostCpuS: number;
  readonly guestImpactS: number;
}

/**
 * The MMU block of every strategy for a job: what all strategies share (enable, GETs, CLEARs, tracked writes)
 * plus, when the disable ran on the source, each strategy's disable evaluated from the same state, and the
 * strategy's share of the whole cost: the disable's host CPU (the ioctl and the vCPU work it causes), and the guest
 * time it costs (flush IPIs and frozen SPTEs, refaults, BQL-bound exits waiting while the ioctl holds the BQL),
 * with the totals including the strategy-independent `common` ones.
 */
export function mmuBlocks(mmu: AggregateMmu, enableNs: number, disable: DisableContext | null, common: CommonTotals): Record<DisableStrategy, MmuBlock> {
  const stats = mmu.stats;
  const refaultNs = mmu.cfg.profile.costs.fault_not_present_ns;
  const out = {} as Record<DisableStrategy, MmuBlock>;
  // Without a disable every strategy has the same counters: computed once.
  const faultsOf = (d: AggregateDisable | null) =>
    Object.fromEntries(FAULT_KINDS.map((k) => [k, count(stats.faults[k] + (d?.stats.faults[k] ?? 0))])) as MmuBlock['page_faults_by_kind'];
  const bailoutsOf = (d: AggregateDisable | null) => Object.fromEntries(PROMOTE_BAILOUTS.map((k) => [k, count(d?.stats.bailouts[k] ?? 0)])) as MmuBlock['promote_bailouts'];
  const undisabledFaults = disable ? null : faultsOf(null);
  const undisabledBailouts = disable ? null : bailoutsOf(null);
  for (const strategy of DISABLE_STRATEGIES) {
    const d: AggregateDisable | null = disable ? mmu.evaluateDisable(strategy, disable.running, disable.rateScale) : null;
    const faults = undisabledFaults ?? faultsOf(d);
    const disableStallNs = d?.vcpuStallNs ?? 0;
    const stallNs = stats.vcpuStallNs + disableStallNs;
    const disableHostS = s((d?.ioctlNs ?? 0) + disableStallNs);
    const refaultsS = s((d?.stats.faults.refault ?? 0) * refaultNs);
    const flushS = Math.max(0, s(disableStallNs) - refaultsS);
    const bqlS = d && disable ? bqlStallS(s(d.ioctlNs), disable.running) : 0;
    out[strategy] = {
      enable_s: s(enableNs),
      disable_s: d ? s(d.ioctlNs) : 0,
      disable_ran: d !== null,
      remote_tlb_flushes: count(stats.tlbFlushes + (d?.stats.tlbFlushes ?? 0)),
      page_faults: Object.values(faults).reduce((a, b) => a + b, 0),
      page_faults_by_kind: faults,
      pml_logged_writes: count(stats.pmlLoggedWrites),
      sptes_zapped: count(stats.sptesZapped + (d?.stats.sptesZapped ?? 0)),
      huge_pages_promoted: count(d?.stats.hugePagesPromoted ?? 0),
      promote_bailouts: undisabledBailouts ?? bailoutsOf(d),
      refaults_during_disable: count(d?.refaultsDuringDisable ?? 0),
      vcpu_stall_s: s(stallNs),
      vcpu_stall_s_per_vcpu: s(stallNs) / mmu.cfg.vcpus,
      host_cpu_s: s(mmu.ioctl.ns + (d?.ioctlNs ?? 0) + stallNs),
      huge_coverage_restored_s: d ? d.hugeCoverageRestoredS : null,
      host_cpu: { disable_s: disableHostS, total_s: common.hostCpuS + disableHostS },
      guest_impact: { flush_stalls_s: flushS, refaults_s: refaultsS, bql_stall_s: bqlS, total_s: common.guestImpactS + flushS + refaultsS + bqlS },
    };
  }
  return out;
}
