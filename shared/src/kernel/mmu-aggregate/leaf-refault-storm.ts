import type { AggregateMmuState } from './aggregate-mmu-state.js';
import type { DisableRun } from './disable-run.js';
import { writeLockBlocking } from './write-lock-blocking.js';

/** What the 4K refaults after a leaf-only zap cost, evaluated once the walk is over. */
export interface LeafRefaultStorm {
  /** Zapped leaves refaulted at 4K, whenever that happens. */
  readonly refaults: number;
  /** Of which while the walk was still running. */
  readonly during: number;
  /** vCPU time lost to the disable, ns: flush exits, the refaults, waits for mmu_lock. */
  readonly vcpuStallNs: number;
}

/**
 * The refaults after a leaf-only zap (`zap-leaf`, `rmap-zap`) when the NX adjustment forces each below the page
 * table left present (before 6.2, see `LeafRefaults`): every zapped leaf a vCPU touches again is mapped 4K by its
 * own not-present fault, and the huge page never comes back. `zappedLeaves[i]`: class i's leaves zapped, their zaps
 * spread over the walk. When the walk holds mmu_lock for write (`yields` given), a vCPU that touches a zapped page
 * is blocked until the next yield and faults once per yield: it loses the rest of the walk from its first such
 * touch, and the others of its refaults come after the walk. Counts the refaults and the stall in `run.stats`.
 */
export function leafRefaultStorm(
  run: DisableRun,
  mmu: AggregateMmuState,
  zappedLeaves: readonly number[],
  rateScale: number,
  running: number,
  yields: number | undefined,
): LeafRefaultStorm {
  const walkNs = run.ioctl.ns - run.walkStartNs;
  let refaults = 0;
  let during = 0;
  /** Touches of zapped pages per ns by the whole VM once everything is zapped. */
  let touchRate = 0;
  mmu.cfg.classes.forEach((c, i) => {
    const leaves = zappedLeaves[i] ?? 0;
    const a = (c.writeRate + c.readRate) * rateScale;
    if (leaves <= 0 || a <= 0) return;
    refaults += leaves;
    touchRate += (a * leaves) / 1e9;
    const x = running > 0 ? (a * walkNs) / 1e9 : 0;
    during += x > 0 ? leaves * (1 - -Math.expm1(-x) / x) : 0;
  });
  let blockedNs = 0;
  if (yields !== undefined) {
    const lock = writeLockBlocking(running, walkNs, touchRate, yields);
    blockedNs = lock.blockedNs;
    during = Math.min(during, lock.maxRefaults);
  }
  // A refault during a write-locked walk is part of the time its vCPU is blocked.
  const outside = yields !== undefined ? refaults - during : refaults;
  const vcpuStallNs = run.vcpu.ns + outside * mmu.cfg.profile.costs.fault_not_present_ns + blockedNs;
  run.stats.faults.refault += refaults;
  run.stats.vcpuStallNs += vcpuStallNs;
  return { refaults, during, vcpuStallNs };
}
