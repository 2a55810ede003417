import { CostId } from '../mmu/cost-profile.js';
import { nxForcesSmall } from '../mmu/mmu-behaviours.js';
import { PG_LEVEL_1G, SPTE_ENT_PER_PAGE } from '../mmu/pg-level.js';
import type { AggregateDisable } from './aggregate-disable.js';
import { chargeDisableWalk, disableWalkEntries } from './aggregate-disable-walk.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { coverageRestoredS } from './coverage-restored.js';
import { startDisable } from './disable-run.js';
import { erf } from './erf.js';
import { hugeUnitsSplit } from './huge-units-split.js';
import { leafRefaultStorm } from './leaf-refault-storm.js';
import { pfnNotMappableShare } from './pfn-not-mappable-share.js';
import { refaultStorm } from './refault-storm.js';
import { unitTables } from './unit-tables.js';

/**
 * The TDP MMU's `zap_collapsible_spte_range` up to 5.18 (`zap-leaf`; see `kvmTdpMmuZapCollapsibleSptes`), in
 * counts: every present leaf of a split unit is zapped and the page tables stay.
 * - 5.13 - 5.18 (read lock): one remote TLB flush per zap. A running vCPU that touches an already-zapped leaf of the
 *   unit being zapped refaults the whole unit huge and tears the rest of it down itself; units not raced are
 *   refaulted later, each replacing its emptied tables;
 * - 5.10 - 5.12 (`zapLeafFlush` batched): mmu_lock held for write, flushes at yields and at the end; vCPUs refault
 *   only when the walk lets go of the lock (no race), waiting for it;
 * - with the NX adjustment forcing refaults below the tables left present (before 6.2), no race ends a unit's walk:
 *   every leaf is zapped, every touched page refaults at 4K and huge pages never come back.
 */
export function zapLeafDisable(mmu: AggregateMmuState, running: number, rateScale: number): AggregateDisable {
  const run = startDisable(mmu.cfg, running);
  const ioctl = run.ioctl;
  const stats = run.stats;
  const costs = mmu.cfg.profile.costs;
  const flushNs = run.flushNs;
  const oneG = mmu.level === PG_LEVEL_1G;
  const tables = unitTables(mmu.level);
  const pPfn = pfnNotMappableShare(mmu.cfg);
  const nxSmall = nxForcesSmall(mmu.mmu);
  const batched = mmu.mmu.zapLeafFlush === 'batched';
  const raceable = !nxSmall && !batched;
  // The leaf walk steps into every 2M entry.
  let walk = disableWalkEntries(mmu.cfg.pages, true);
  /** Units zapped and not raced, awaiting a refault, per class; and their leaves. */
  const zapped = mmu.cfg.classes.map(() => 0);
  const zappedLeavesOf = mmu.cfg.classes.map(() => 0);
  let raceRefaults = 0;
  let raceStallNs = 0;
  let laterExtraNs = 0;
  let anyZapped = 0;
  mmu.cfg.classes.forEach((c, i) => {
    const units = hugeUnitsSplit(mmu, i) * (1 - pPfn);
    if (units <= 0) return;
    const leaves = mmu.uPages * mmu.present[i]!;
    const access = (c.writeRate + c.readRate) * rateScale;
    // Each present leaf is zapped (with a flush from 5.13); a running vCPU touching a zapped page first refaults the unit.
    const q = costs.leaf_zap_ns + (batched ? 0 : flushNs);
    let zappedLeaves = leaves;
    let pRace = 0;
    if (raceable && running > 0 && access > 0) {
      const a = access / 1e9;
      const s = Math.sqrt(a / (2 * q));
      const meanNs = Math.sqrt((Math.PI * q) / (2 * a)) * erf(leaves * q * s);
      zappedLeaves = Math.min(leaves, Math.max(1, meanNs / q));
      pRace = 1 - Math.exp(-(a * leaves * leaves * q) / 2);
    }
    // Over 1 GiB units the walk reads the 4K entries of each 2M table it zaps in; a refault mid-walk maps the
    // whole unit 1G, and the walk then reads only the dead table's 2M entries (counted in `walk` below).
    const tablesWalked = oneG ? Math.min(SPTE_ENT_PER_PAGE, Math.ceil(zappedLeaves / Math.max(1, SPTE_ENT_PER_PAGE * mmu.present[i]!))) : 1;
    ioctl.charge(CostId.spte_walk_ns, units * Math.max(0, tablesWalked * SPTE_ENT_PER_PAGE - zappedLeaves));
    ioctl.charge(CostId.leaf_zap_ns, units * zappedLeaves);
    if (!batched) run.flush(units * zappedLeaves);
    stats.sptesZapped += units * zappedLeaves;
    anyZapped += units * zappedLeaves;
    if (oneG) walk += units * SPTE_ENT_PER_PAGE;
    if (nxSmall) {
      zappedLeavesOf[i] = units * zappedLeaves;
      return;
    }
    // Units refaulted mid-zap: the vCPU tears the rest down at once. Only raced units have leaves left, so the
    // leaves left over all units, units x (leaves - E[zapped]), are all torn down by raced units (not raced x the
    // mean leftover, which undercounts them by the share of units not raced).
    const raced = units * pRace;
    raceRefaults += raced;
    const leftover = units * Math.max(0, leaves - zappedLeaves);
    raceStallNs += raced * (costs.fault_not_present_ns + tables * SPTE_ENT_PER_PAGE * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + flushNs) + leftover * (costs.child_spte_teardown_ns - costs.child_spte_teardown_nonpresent_ns);
    stats.childSptesTornDown += leftover;
    stats.spFreed += raced * tables;
    const later = units - raced;
    zapped[i] = later;
    // A later refault replaces the emptied table(s): teardown of non-present entries, table frees, a flush.
    laterExtraNs += later * (tables * SPTE_ENT_PER_PAGE * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + flushNs);
    stats.spFreed += later * tables;
  });
  const yields = chargeDisableWalk(run, walk);
  // 5.10 - 5.12: a flush at each yield (zaps are pending by then) and one at the end.
  if (batched && anyZapped > 0) run.flush(yields + Math.min(1, anyZapped));
  const ioctlNs = ioctl.ns;
  if (nxSmall) {
    const storm = leafRefaultStorm(run, mmu, zappedLeavesOf, rateScale, running, batched ? yields : undefined);
    return {
      strategy: 'zap-leaf',
      ioctlNs,
      stats,
      vcpuStallNs: storm.vcpuStallNs,
      refaultsDuringDisable: storm.during,
      hugeCoverageRestoredS: coverageRestoredS(mmu, zappedLeavesOf, rateScale, pPfn, true),
    };
  }
  const storm = refaultStorm(run, mmu, zapped, rateScale, running, { refaults: raceRefaults, stallNs: raceStallNs, laterExtraNs }, batched ? yields : undefined);
  // zap-leaf leaves empty tables behind: each refault replaces one and flushes.
  stats.tlbFlushes += storm.refaults;
  return {
    strategy: 'zap-leaf',
    ioctlNs,
    stats,
    vcpuStallNs: storm.vcpuStallNs,
    refaultsDuringDisable: storm.during,
    hugeCoverageRestoredS: coverageRestoredS(mmu, zapped, rateScale, pPfn),
  };
}
