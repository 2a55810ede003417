import { CostId } from '../mmu/cost-profile.js';
import { PG_LEVEL_1G, SPTE_ENT_PER_PAGE } from '../mmu/pg-level.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import type { DisableRun } from './disable-run.js';
import { unitTables } from './unit-tables.js';

/**
 * Replaces the non-leaf SPTE of `units` split units of class `i` (zapped, or promoted to a huge leaf) and tears
 * down the tables below it (`handle_removed_pt`: every child SPTE, present or not; the tables freed), as the
 * non-leaf zaps and in-place promotion both do. The flushes are the caller's.
 */
export function replaceNonleafSptes(run: DisableRun, mmu: AggregateMmuState, i: number, units: number): void {
  const ioctl = run.ioctl;
  const perTable = SPTE_ENT_PER_PAGE * mmu.present[i]!;
  const oneG = mmu.level === PG_LEVEL_1G;
  const children = oneG ? SPTE_ENT_PER_PAGE + SPTE_ENT_PER_PAGE * perTable : perTable;
  const nonpresent = oneG ? SPTE_ENT_PER_PAGE * (SPTE_ENT_PER_PAGE - perTable) : SPTE_ENT_PER_PAGE - perTable;
  const tables = unitTables(mmu.level);
  ioctl.charge(CostId.nonleaf_spte_replace_ns, units);
  ioctl.charge(CostId.child_spte_teardown_ns, units * children);
  ioctl.charge(CostId.child_spte_teardown_nonpresent_ns, units * nonpresent);
  ioctl.charge(CostId.sp_free_ns, units * tables);
  run.stats.childSptesTornDown += units * children;
  run.stats.spFreed += units * tables;
}
