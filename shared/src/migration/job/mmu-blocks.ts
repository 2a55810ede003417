import type { AggregateDisable } from '../../kernel/mmu-aggregate/aggregate-disable.js';
import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { FAULT_KINDS } from '../../kernel/mmu/fault-kind.js';
import { PROMOTE_BAILOUTS } from '../../kernel/mmu/promote-bailout.js';
import { bqlStallS } from '../precopy/bql-stall.js';
import type { MmuLoggingCost } from '../precopy/logging-costs.js';
import type { MmuBlock } from './migration-result.js';

const s = (ns: number): number => ns / 1e9;
/** Counters come from expectations; records carry whole numbers. */
const count = (x: number): number => Math.round(x);

/** The disable as it ran on the source: vCPUs in guest mode meanwhile, and the workload's speed afterwards. */
export interface DisableContext {
  readonly running: number;
  readonly rateScale: number;
}

/** The parts of a job's whole cost that no MMU decides, s (host CPU) and vCPU-s (guest). */
export interface MmuIndependentTotals {
  readonly hostCpuS: number;
  readonly guestImpactS: number;
}

/**
 * The MMU block of every strategy for a job: what its MMU did on the job's guest timeline (enable, GETs, CLEARs,
 * tracked writes: the TDP MMU for its four strategies, the shadow MMU for `rmap-zap`) plus, when the disable ran on
 * the source, the strategy's disable evaluated from its MMU's state; and the strategy's whole cost: its MMU's
 * logging share (`loggingOf`), the disable's host CPU (the ioctl and the vCPU work it causes) and guest time (flush
 * IPIs and frozen SPTEs, refaults, BQL-bound exits waiting while the ioctl holds the BQL), with the totals including
 * the MMU-independent parts.
 */
export function mmuBlocks(
  mmu: AggregateMmu,
  disable: DisableContext | null,
  loggingOf: (strategy: DisableStrategy) => Readonly<MmuLoggingCost>,
  independent: MmuIndependentTotals,
): Record<DisableStrategy, MmuBlock> {
  const out = {} as Record<DisableStrategy, MmuBlock>;
  const refaultNs = mmu.cfg.profile.costs.fault_not_present_ns;
  for (const strategy of DISABLE_STRATEGIES) {
    const own = mmu.mmuOf(strategy);
    const stats = own.stats;
    const logging = loggingOf(strategy);
    const d: AggregateDisable | null = disable ? mmu.evaluateDisable(strategy, disable.running, disable.rateScale) : null;
    const faults = {} as MmuBlock['page_faults_by_kind'];
    let pageFaults = 0;
    for (const k of FAULT_KINDS) pageFaults += faults[k] = count(stats.faults[k] + (d?.stats.faults[k] ?? 0));
    const bailouts = {} as MmuBlock['promote_bailouts'];
    for (const k of PROMOTE_BAILOUTS) bailouts[k] = count(d?.stats.bailouts[k] ?? 0);
    const disableStallNs = d?.vcpuStallNs ?? 0;
    const stallNs = stats.vcpuStallNs + disableStallNs;
    const disableHostS = s((d?.ioctlNs ?? 0) + disableStallNs);
    const refaultsS = s((d?.stats.faults.refault ?? 0) * refaultNs);
    const flushS = Math.max(0, s(disableStallNs) - refaultsS);
    const bqlS = d && disable ? bqlStallS(s(d.ioctlNs), disable.running) : 0;
    const trackingS = s(logging.trackingNs);
    const enableSplitS = s(logging.enableSplitNs);
    const guestTrackingS = s(logging.trackingStallNs);
    const loggingFlushS = s(logging.flushStallNs);
    out[strategy] = {
      enable_s: s(own.enableNs),
      disable_s: d ? s(d.ioctlNs) : 0,
      disable_ran: d !== null,
      remote_tlb_flushes: count(stats.tlbFlushes + (d?.stats.tlbFlushes ?? 0)),
      page_faults: pageFaults,
      page_faults_by_kind: faults,
      pml_logged_writes: count(stats.pmlLoggedWrites),
      sptes_zapped: count(stats.sptesZapped + (d?.stats.sptesZapped ?? 0)),
      huge_pages_promoted: count(d?.stats.hugePagesPromoted ?? 0),
      promote_bailouts: bailouts,
      refaults_during_disable: count(d?.refaultsDuringDisable ?? 0),
      vcpu_stall_s: s(stallNs),
      vcpu_stall_s_per_vcpu: s(stallNs) / mmu.cfg.vcpus,
      host_cpu_s: s(own.ioctl.ns + (d?.ioctlNs ?? 0) + stallNs),
      huge_coverage_restored_s: d ? d.hugeCoverageRestoredS : null,
      host_cpu: { dirty_tracking_s: trackingS, enable_split_s: enableSplitS, disable_s: disableHostS, total_s: independent.hostCpuS + trackingS + enableSplitS + disableHostS },
      guest_impact: {
        dirty_tracking_s: guestTrackingS,
        logging_flush_stalls_s: loggingFlushS,
        flush_stalls_s: flushS,
        refaults_s: refaultsS,
        bql_stall_s: bqlS,
        total_s: independent.guestImpactS + guestTrackingS + loggingFlushS + flushS + refaultsS + bqlS,
      },
    };
  }
  return out;
}
