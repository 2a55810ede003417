import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { hugeUnits } from './aggregate-vm.js';

/** Huge units of page class `i` that are split to 4K now: what a disable finds to zap or promote. */
export function hugeUnitsSplit(mmu: AggregateMmuState, i: number): number {
  return hugeUnits(mmu.cfg, mmu.cfg.classes[i]!) * mmu.split[i]!;
}
