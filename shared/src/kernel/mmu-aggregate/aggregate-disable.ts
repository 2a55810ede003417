import type { DisableStrategy } from '../mmu/disable-strategy.js';
import type { MmuStats } from '../mmu/mmu-stats.js';

/** What disabling dirty logging costs under one strategy, evaluated from the current state without changing it. */
export interface AggregateDisable {
  readonly strategy: DisableStrategy;
  /** Time on the ioctl thread (KVM_SET_USER_MEMORY_REGION), ns. */
  readonly ioctlNs: number;
  /** Counters of the disable and of the refaults it causes afterwards. */
  readonly stats: MmuStats;
  /** vCPU time lost, ns: flush IPIs, frozen SPTEs, refaults (the storm, whenever it happens). */
  readonly vcpuStallNs: number;
  /** Collapsed huge pages refaulted while the disable was still running. */
  readonly refaultsDuringDisable: number;
  /** Seconds after the disable until 99 % of the huge pages lost to zapping are mapped huge again; null = never. */
  readonly hugeCoverageRestoredS: number | null;
}
