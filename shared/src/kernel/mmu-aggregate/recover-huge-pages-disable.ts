import { PG_LEVEL_1G } from '../mmu/pg-level.js';
import type { AggregateDisable } from './aggregate-disable.js';
import { chargeDisableWalk, disableWalkEntries, flushBatched } from './aggregate-disable-walk.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { coverageRestoredS } from './coverage-restored.js';
import { startDisable } from './disable-run.js';
import { hugeUnitsSplit } from './huge-units-split.js';
import { pfnNotMappableShare } from './pfn-not-mappable-share.js';
import { NO_RACE, refaultStorm } from './refault-storm.js';
import { replaceNonleafSptes } from './replace-nonleaf-sptes.js';

/**
 * In-place promotion (`kvm_tdp_mmu_recover_huge_pages`, 6.13; `try_promote_lpage` in Ben Gardon's 2021 series), in
 * counts (see `kvmTdpMmuRecoverHugePages`): the non-leaf SPTE of each split unit is replaced by a huge leaf and its
 * tables torn down, with batched flushes; vCPUs need not refault. A unit whose promotion bails out is zapped
 * instead and refaulted later, counted by reason (`PROMOTE_BAILOUTS`, each reason given the ones before it did not
 * apply). Units the host can no longer map huge (`pfn_not_mappable`) stay at 4K, as under every strategy.
 */
export function recoverHugePagesDisable(mmu: AggregateMmuState, running: number, rateScale: number): AggregateDisable {
  const run = startDisable(mmu.cfg, running);
  const stats = run.stats;
  const pPfn = pfnNotMappableShare(mmu.cfg);
  const pNotify = mmu.cfg.bailouts.mmu_notifier_in_progress;
  const pMemtype = mmu.cfg.bailouts.memtype_needs_vcpu;
  const pInvalid = mmu.cfg.bailouts.invalid_pfn;
  const pFallback = 1 - (1 - pNotify) * (1 - pMemtype) * (1 - pInvalid);
  /** Units zapped by a bail-out, awaiting a refault, per class. */
  const zapped = mmu.cfg.classes.map(() => 0);
  let collapsed = 0;
  mmu.cfg.classes.forEach((_, i) => {
    const split = hugeUnitsSplit(mmu, i);
    stats.bailouts.pfn_not_mappable += split * pPfn;
    const units = split * (1 - pPfn);
    if (units <= 0) return;
    replaceNonleafSptes(run, mmu, i, units);
    const fallback = units * pFallback;
    stats.bailouts.mmu_notifier_in_progress += units * pNotify;
    stats.bailouts.memtype_needs_vcpu += units * (1 - pNotify) * pMemtype;
    stats.bailouts.invalid_pfn += units * (1 - pNotify) * (1 - pMemtype) * pInvalid;
    stats.hugePagesPromoted += units - fallback;
    stats.sptesZapped += fallback;
    zapped[i] = fallback;
    collapsed += units;
  });
  // Over 1 GiB units the walk promotes at the 1G level and does not step into the 2M entries.
  const yields = chargeDisableWalk(run, disableWalkEntries(mmu.cfg.pages, mmu.level !== PG_LEVEL_1G));
  flushBatched(run, yields, collapsed);
  const ioctlNs = run.ioctl.ns;
  const storm = refaultStorm(run, mmu, zapped, rateScale, running, NO_RACE);
  return {
    strategy: 'promote',
    ioctlNs,
    stats,
    vcpuStallNs: storm.vcpuStallNs,
    refaultsDuringDisable: storm.during,
    hugeCoverageRestoredS: coverageRestoredS(mmu, zapped, rateScale, pPfn),
  };
}
