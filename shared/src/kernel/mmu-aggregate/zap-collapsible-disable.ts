import type { DisableStrategy } from '../mmu/disable-strategy.js';
import { CostId } from '../mmu/cost-profile.js';
import { PG_LEVEL_1G, PG_LEVEL_4K } from '../mmu/pg-level.js';
import { hugeUnits } from './aggregate-vm.js';
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
 * `kvm_tdp_mmu_zap_collapsible_sptes` since 5.19, in counts (see `kvmTdpMmuZapCollapsibleSptes`): the non-leaf
 * SPTE of each split unit the host can still map huge is zapped and its tables torn down; vCPUs refault the unit
 * huge on their next touch.
 * - `zap` (5.19 - 6.12): the SPTE is frozen, flushed, zapped: one remote TLB flush per zap, and a vCPU touching the
 *   frozen SPTE waits out the flush. 5.19 (`zapWalksLeaves`) first walks down to a leaf of each unit it zaps and
 *   reads every leaf of the 4K tables it cannot collapse;
 * - `zap-batched` (35ef80eb29ab; a counterfactual, no release shipped it without in-place recovery): written
 *   non-present directly; flushes only at yields and at the end.
 */
export function zapCollapsibleDisable(
  mmu: AggregateMmuState,
  strategy: Extract<DisableStrategy, 'zap' | 'zap-batched'>,
  running: number,
  rateScale: number,
): AggregateDisable {
  const run = startDisable(mmu.cfg, running);
  const pPfn = pfnNotMappableShare(mmu.cfg);
  const zapped = mmu.cfg.classes.map(() => 0);
  let collapsed = 0;
  const walksLeaves = mmu.mmu.zapWalksLeaves;
  mmu.cfg.classes.forEach((c, i) => {
    const split = hugeUnitsSplit(mmu, i);
    const units = split * (1 - pPfn);
    if (walksLeaves) {
      // 5.19: down to a leaf and back up for each zap; every leaf of the 4K tables it cannot collapse.
      const small = c.pages - hugeUnits(mmu.cfg, c) * mmu.uPages + split * pPfn * mmu.uPages;
      run.ioctl.charge(CostId.spte_walk_ns, units * (mmu.level - PG_LEVEL_4K) + small);
    }
    if (units <= 0) return;
    replaceNonleafSptes(run, mmu, i, units);
    run.stats.sptesZapped += units;
    zapped[i] = units;
    if (strategy === 'zap') {
      run.flush(units);
      // The first vCPU to touch the unit while its SPTE is frozen waits out the flush: E[(F - T)+] for a first touch
      // T ~ Exp(lambda), F - (1 - e^(-lambda F)) / lambda, which is lambda F^2 / 2 while touches during a flush are
      // rare and F once every unit is touched during its flush (1 GiB units: lambda F is in the hundreds).
      const lambda = ((c.writeRate + c.readRate) * rateScale * mmu.uPages) / 1e9;
      const f = run.flushNs;
      const x = lambda * f;
      if (running > 0 && x > 0) run.vcpu.wait(units * (x < 1e-4 ? (lambda * f * f * (1 - x / 3)) / 2 : f + Math.expm1(-x) / lambda));
    }
    collapsed += units;
  });
  // Over 1 GiB units the walk zaps at the 1G level and does not step into the 2M entries.
  const yields = chargeDisableWalk(run, disableWalkEntries(mmu.cfg.pages, mmu.level !== PG_LEVEL_1G));
  if (strategy === 'zap-batched') flushBatched(run, yields, collapsed);
  const ioctlNs = run.ioctl.ns;
  const storm = refaultStorm(run, mmu, zapped, rateScale, running, NO_RACE);
  return {
    strategy,
    ioctlNs,
    stats: run.stats,
    vcpuStallNs: storm.vcpuStallNs,
    refaultsDuringDisable: storm.during,
    hugeCoverageRestoredS: coverageRestoredS(mmu, zapped, rateScale, pPfn),
  };
}
