import { writeLockBlocking } from './write-lock-blocking.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import type { DisableRun } from './disable-run.js';

/** What `zap-leaf`'s race with running vCPUs adds to the refaults; the other strategies have no race. */
export interface RaceRefaults {
  /** Units refaulted while their leaves were still being zapped. */
  readonly refaults: number;
  /** vCPU time those refaults took, ns. */
  readonly stallNs: number;
  /** vCPU time each later refault adds to the storm's (replacing the emptied tables), summed, ns. */
  readonly laterExtraNs: number;
}

/** No race: the non-leaf zaps and promotion. */
export const NO_RACE: RaceRefaults = { refaults: 0, stallNs: 0, laterExtraNs: 0 };

/** The refaults after a disable and what the vCPUs lost in all. */
export interface RefaultStorm {
  /** Zapped units refaulted (race included). */
  readonly refaults: number;
  /** Of which while the walk was still running. */
  readonly during: number;
  /** vCPU time lost to the disable, ns: flush exits and frozen SPTEs, the race, the storm. */
  readonly vcpuStallNs: number;
}

/**
 * The refault storm, evaluated once the walk is over: every zapped unit comes back on its first touch
 * (`kvm_tdp_mmu_map` maps it huge again, one not-present fault); those touched while the walk still ran count as
 * refaults during the disable. When the walk holds mmu_lock for write (`lockYields`: its yields), the vCPUs that
 * touch zapped units are blocked until its yields (`writeLockBlocking`). `zapped[i]` are class i's units awaiting a
 * refault. Counts the refaults and the vCPU stall in `run.stats`.
 */
export function refaultStorm(
  run: DisableRun,
  mmu: AggregateMmuState,
  zapped: readonly number[],
  rateScale: number,
  running: number,
  race: RaceRefaults,
  lockYields?: number,
): RefaultStorm {
  const walkNs = run.ioctl.ns - run.walkStartNs;
  let refaults = race.refaults;
  let during = race.refaults;
  let touchesPerNs = 0;
  const refaultNs = mmu.cfg.profile.costs.fault_not_present_ns;
  mmu.cfg.classes.forEach((c, i) => {
    const z = zapped[i]!;
    if (z <= 0) return;
    const mu = (c.writeRate + c.readRate) * rateScale * mmu.uPages;
    if (mu <= 0) return;
    refaults += z;
    touchesPerNs += (z * mu) / 1e9;
    // Touches during the walk need vCPUs in guest mode; a paused VM refaults only once it runs again.
    const x = running > 0 ? (mu * walkNs) / 1e9 : 0;
    during += x > 0 ? z * (1 - -Math.expm1(-x) / x) : 0;
  });
  run.stats.faults.refault += refaults;
  let blockedNs = 0;
  let outside = refaults - race.refaults;
  if (lockYields !== undefined) {
    const lock = writeLockBlocking(running, walkNs, touchesPerNs, lockYields);
    during = Math.min(during, lock.maxRefaults);
    blockedNs = lock.blockedNs;
    // A refault during the walk is part of the time its vCPU is blocked.
    outside -= during;
  }
  const stormNs = outside * refaultNs + race.laterExtraNs + blockedNs;
  const vcpuStallNs = run.vcpu.ns + race.stallNs + stormNs;
  run.stats.vcpuStallNs += vcpuStallNs;
  return { refaults, during, vcpuStallNs };
}
