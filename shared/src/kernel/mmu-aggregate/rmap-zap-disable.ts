import { CostId } from '../mmu/cost-profile.js';
import { nxForcesSmall } from '../mmu/mmu-behaviours.js';
import { SPTE_ENT_PER_PAGE } from '../mmu/pg-level.js';
import type { AggregateDisable } from './aggregate-disable.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { hugeUnits } from './aggregate-vm.js';
import { coverageRestoredS } from './coverage-restored.js';
import { startDisable } from './disable-run.js';
import { hugeUnitsSplit } from './huge-units-split.js';
import { leafRefaultStorm } from './leaf-refault-storm.js';
import { pfnNotMappableShare } from './pfn-not-mappable-share.js';
import { refaultStorm } from './refault-storm.js';
import { unitTables } from './unit-tables.js';

/**
 * The shadow MMU's `kvm_mmu_zap_collapsible_sptes` over rmaps (`rmap-zap`; see `kvmRmapZapCollapsibleSptes`), in
 * counts, with mmu_lock held for write: every gfn's 4K rmap head is visited (and its 2M one from 6.0,
 * `rmapZapMaxLevel`), every present 4K SPTE reached through its rmap, the collapsible ones zapped; flushes before
 * each yield and once at the end; the page tables stay. A vCPU that needs to refault waits for the walk's next
 * yield; its refault maps the unit huge over the table, or, with the NX adjustment before 6.2, the page at 4K below
 * it, and huge pages never come back.
 */
export function rmapZapDisable(mmu: AggregateMmuState, running: number, rateScale: number): AggregateDisable {
  const run = startDisable(mmu.cfg, running);
  const ioctl = run.ioctl;
  const stats = run.stats;
  const costs = mmu.cfg.profile.costs;
  const pPfn = pfnNotMappableShare(mmu.cfg);
  const nxSmall = nxForcesSmall(mmu.mmu);
  const tables = unitTables(mmu.level);
  const pages = mmu.cfg.pages;
  ioctl.charge(CostId.rmap_walk_ns, pages + (mmu.mmu.rmapZapMaxLevel >= 2 ? pages / SPTE_ENT_PER_PAGE : 0));
  const zappedUnits = mmu.cfg.classes.map(() => 0);
  const zappedLeaves = mmu.cfg.classes.map(() => 0);
  let anyZapped = 0;
  mmu.cfg.classes.forEach((c, i) => {
    const split = hugeUnitsSplit(mmu, i);
    const units = split * (1 - pPfn);
    const perUnit = mmu.uPages * mmu.present[i]!;
    // SPTEs found in 4K rmaps that cannot be collapsed: 4K-backed pages, and split units the host can no longer map huge.
    const small = c.pages - hugeUnits(mmu.cfg, c) * mmu.uPages + split * pPfn * perUnit;
    const leaves = units * perUnit;
    ioctl.charge(CostId.rmap_spte_ns, small + leaves);
    ioctl.charge(CostId.leaf_zap_ns, leaves);
    stats.sptesZapped += leaves;
    zappedUnits[i] = units;
    zappedLeaves[i] = leaves;
    anyZapped += leaves;
  });
  // cond_resched_rwlock_write every cond_resched_interval_ns: a flush before each yield (zaps are pending by then)
  // and one at the end. The rmap walk resumes where it was.
  const walkNs = ioctl.ns - run.walkStartNs;
  const interval = mmu.cfg.profile.params.cond_resched_interval_ns;
  const yields = Math.floor(walkNs / interval);
  stats.yields += yields;
  if (anyZapped > 0) run.flush(yields + Math.min(1, anyZapped));
  const ioctlNs = ioctl.ns;
  if (nxSmall) {
    const storm = leafRefaultStorm(run, mmu, zappedLeaves, rateScale, running, yields);
    return {
      strategy: 'rmap-zap',
      ioctlNs,
      stats,
      vcpuStallNs: storm.vcpuStallNs,
      refaultsDuringDisable: storm.during,
      hugeCoverageRestoredS: coverageRestoredS(mmu, zappedLeaves, rateScale, pPfn, true),
    };
  }
  // A refault maps the unit huge over its emptied tables (the model tears them down as the TDP MMU would), with a
  // flush; one that comes during the walk waits for its next yield first.
  const touched = mmu.cfg.classes.reduce((sum, c, i) => sum + (c.writeRate + c.readRate > 0 ? zappedUnits[i]! : 0), 0);
  const laterExtraNs = touched * (tables * SPTE_ENT_PER_PAGE * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + run.flushNs);
  const storm = refaultStorm(run, mmu, zappedUnits, rateScale, running, { refaults: 0, stallNs: 0, laterExtraNs }, yields);
  stats.tlbFlushes += storm.refaults;
  stats.spFreed += storm.refaults * tables;
  return {
    strategy: 'rmap-zap',
    ioctlNs,
    stats,
    vcpuStallNs: storm.vcpuStallNs,
    refaultsDuringDisable: storm.during,
    hugeCoverageRestoredS: coverageRestoredS(mmu, zappedUnits, rateScale, pPfn),
  };
}
