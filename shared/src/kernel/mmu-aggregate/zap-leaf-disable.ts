import { CostId } from '../mmu/cost-profile.js';
import { PG_LEVEL_1G, SPTE_ENT_PER_PAGE } from '../mmu/pg-level.js';
import type { AggregateDisable } from './aggregate-disable.js';
import { chargeDisableWalk, disableWalkEntries } from './aggregate-disable-walk.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { coverageRestoredS } from './coverage-restored.js';
import { startDisable } from './disable-run.js';
import { erf } from './erf.js';
import { hugeUnitsSplit } from './huge-units-split.js';
import { pfnNotMappableShare } from './pfn-not-mappable-share.js';
import { refaultStorm } from './refault-storm.js';
import { unitTables } from './unit-tables.js';

/**
 * The 2021 TDP MMU's `zap_collapsible_spte_range` (`zap-leaf`; see `kvmTdpMmuZapCollapsibleSptes`), in counts:
 * every present leaf of a split unit is zapped, one remote TLB flush per zap; the page tables stay. A running vCPU
 * that touches an already-zapped leaf of the unit being zapped refaults the whole unit huge and tears the rest of
 * it down itself; units not raced are refaulted later, each replacing its emptied tables.
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
  // The leaf walk steps into every 2M entry.
  let walk = disableWalkEntries(mmu.cfg.pages, true);
  /** Units zapped and not raced, awaiting a refault, per class. */
  const zapped = mmu.cfg.classes.map(() => 0);
  let raceRefaults = 0;
  let raceStallNs = 0;
  let laterExtraNs = 0;
  mmu.cfg.classes.forEach((c, i) => {
    const units = hugeUnitsSplit(mmu, i) * (1 - pPfn);
    if (units <= 0) return;
    const leaves = mmu.uPages * mmu.present[i]!;
    const access = (c.writeRate + c.readRate) * rateScale;
    // Each present leaf is zapped with a flush; a running vCPU touching a zapped page first refaults the unit.
    const q = costs.leaf_zap_ns + flushNs;
    let zappedLeaves = leaves;
    let pRace = 0;
    if (running > 0 && access > 0) {
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
    run.flush(units * zappedLeaves);
    stats.sptesZapped += units * zappedLeaves;
    if (oneG) walk += units * SPTE_ENT_PER_PAGE;
    // Units refaulted mid-zap: the vCPU tears the rest down at once.
    const raced = units * pRace;
    raceRefaults += raced;
    const leftover = Math.max(0, leaves - zappedLeaves);
    raceStallNs += raced * (costs.fault_not_present_ns + leftover * costs.child_spte_teardown_ns + (tables * SPTE_ENT_PER_PAGE - leftover) * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + flushNs);
    stats.childSptesTornDown += raced * leftover;
    stats.spFreed += raced * tables;
    const later = units - raced;
    zapped[i] = later;
    // A later refault replaces the emptied table(s): teardown of non-present entries, table frees, a flush.
    laterExtraNs += later * (tables * SPTE_ENT_PER_PAGE * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + flushNs);
    stats.spFreed += later * tables;
  });
  chargeDisableWalk(run, walk);
  const ioctlNs = ioctl.ns;
  const storm = refaultStorm(run, mmu, zapped, rateScale, running, { refaults: raceRefaults, stallNs: raceStallNs, laterExtraNs });
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
