import type { MmuBehaviours } from '../mmu/mmu-behaviours.js';
import type { AggregateVmConfig } from './aggregate-vm.js';

/**
 * What the disable evaluators read of one MMU of an `AggregateMmu` (`CountedMmu`), and never change: the VM, the
 * MMU and, per page class, the share of its huge units split to 4K and the share of a split unit's 4K leaves that
 * are present. The strategies of an MMU are evaluated from the same state, so they are paired counterfactuals.
 */
export interface AggregateMmuState {
  readonly cfg: AggregateVmConfig;
  /** Which MMU this is and how it behaves (the TDP MMU, or the shadow MMU for `rmap-zap`). */
  readonly mmu: MmuBehaviours;
  /** Level of the host huge page, the collapsible unit: 2 (2 MiB) or 3 (1 GiB); 1 for 4 KiB backing (none). */
  readonly level: 1 | 2 | 3;
  /** 4K pages per unit. */
  readonly uPages: number;
  /** Per class: fraction of its huge units split to 4K. */
  readonly split: readonly number[];
  /** Per class: fraction of a split unit's pages present. */
  readonly present: readonly number[];
}
