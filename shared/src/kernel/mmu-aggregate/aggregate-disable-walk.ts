import { CostId } from '../mmu/cost-profile.js';
import { pagesPerHpage, PG_LEVEL_1G, PG_LEVEL_2M } from '../mmu/pg-level.js';
import type { DisableRun } from './disable-run.js';

/** SPTEs read again after a yield: the walk restarts from the root (`tdp_iter_restart`) and steps back down. */
const RESTART_READS = 2;

/**
 * SPTEs the disable walk reads above the 4K level (`for_each_tdp_pte_min_level(iter, root, PG_LEVEL_2M, ...)`, as
 * `walkSlotForDisable`): the root, every 1G entry and, with `read2M`, every 2M entry (not read when whole 1G units
 * are collapsed and their children skipped).
 */
export function disableWalkEntries(pages: number, read2M: boolean): number {
  const g1 = Math.ceil(pages / pagesPerHpage(PG_LEVEL_1G));
  const regions = Math.ceil(pages / pagesPerHpage(PG_LEVEL_2M));
  return 1 + g1 + (read2M ? regions : 0);
}

/**
 * Ends the walk: charges its `entries` SPTE reads, then its yields (`tdp_mmu_iter_cond_resched` once per
 * `cond_resched_interval_ns` of ioctl time since the walk started; each restarts from the root). Returns the
 * yields, at which the batched strategies flush.
 */
export function chargeDisableWalk(run: DisableRun, entries: number): number {
  const ioctl = run.ioctl;
  ioctl.charge(CostId.spte_walk_ns, entries);
  const yields = Math.floor((ioctl.ns - run.walkStartNs) / ioctl.profile.params.cond_resched_interval_ns);
  ioctl.charge(CostId.spte_walk_ns, RESTART_READS * yields);
  run.stats.yields += yields;
  return yields;
}

/**
 * Batched flushes (`zap-batched`, `promote`): one at each yield (a zap or promotion is pending by then), and one at
 * the end of the memslot when anything was collapsed (with expected counts below one unit, that many).
 */
export function flushBatched(run: DisableRun, yields: number, collapsed: number): void {
  if (collapsed > 0) run.flush(yields + Math.min(1, collapsed));
}
