import type { AggregateDisable } from '../../kernel/mmu-aggregate/aggregate-disable.js';
import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import { FAULT_KINDS } from '../../kernel/mmu/fault-kind.js';
import { PROMOTE_BAILOUTS } from '../../kernel/mmu/promote-bailout.js';
import type { MmuBlock } from './migration-result.js';

const s = (ns: number): number => ns / 1e9;
/** Counters come from expectations; records carry whole numbers. */
const count = (x: number): number => Math.round(x);

/**
 * The MMU block of every strategy for a job: what its MMU did on the job's guest timeline (enable, GETs, CLEARs,
 * tracked writes: the TDP MMU for its four strategies, the shadow MMU for `rmap-zap`) plus, when the disable ran
 * on the source, the strategy's disable evaluated from its MMU's state.
 */
export function mmuBlocks(
  mmu: AggregateMmu,
  disable: { readonly running: number; readonly rateScale: number } | null,
): Record<DisableStrategy, MmuBlock> {
  const out = {} as Record<DisableStrategy, MmuBlock>;
  for (const strategy of DISABLE_STRATEGIES) {
    const own = mmu.mmuOf(strategy);
    const common = own.stats;
    const d: AggregateDisable | null = disable ? mmu.evaluateDisable(strategy, disable.running, disable.rateScale) : null;
    const faults = {} as MmuBlock['page_faults_by_kind'];
    let pageFaults = 0;
    for (const k of FAULT_KINDS) pageFaults += faults[k] = count(common.faults[k] + (d?.stats.faults[k] ?? 0));
    const bailouts = {} as MmuBlock['promote_bailouts'];
    for (const k of PROMOTE_BAILOUTS) bailouts[k] = count(d?.stats.bailouts[k] ?? 0);
    const stallNs = common.vcpuStallNs + (d?.vcpuStallNs ?? 0);
    out[strategy] = {
      enable_s: s(own.enableNs),
      disable_s: d ? s(d.ioctlNs) : 0,
      disable_ran: d !== null,
      remote_tlb_flushes: count(common.tlbFlushes + (d?.stats.tlbFlushes ?? 0)),
      page_faults: pageFaults,
      page_faults_by_kind: faults,
      pml_logged_writes: count(common.pmlLoggedWrites),
      sptes_zapped: count(common.sptesZapped + (d?.stats.sptesZapped ?? 0)),
      huge_pages_promoted: count(d?.stats.hugePagesPromoted ?? 0),
      promote_bailouts: bailouts,
      refaults_during_disable: count(d?.refaultsDuringDisable ?? 0),
      vcpu_stall_s: s(stallNs),
      vcpu_stall_s_per_vcpu: s(stallNs) / mmu.cfg.vcpus,
      host_cpu_s: s(own.ioctl.ns + (d?.ioctlNs ?? 0) + stallNs),
      huge_coverage_restored_s: d ? d.hugeCoverageRestoredS : null,
    };
  }
  return out;
}
