import type { AggregateMmu } from '../../kernel/mmu-aggregate/aggregate-mmu.js';
import type { PageClass } from '../../kernel/mmu-aggregate/page-class.js';

/** Per class: its share of all page touches (writes and reads), or of the pages when the guest touches none. */
export function touchShares(classes: readonly PageClass[]): number[] {
  const touches = classes.map((c) => c.pages * (c.writeRate + c.readRate));
  const total = touches.reduce((a, b) => a + b, 0);
  if (total > 0) return touches.map((t) => t / total);
  const pages = classes.reduce((a, c) => a + c.pages, 0);
  return classes.map((c) => c.pages / pages);
}

/** Touch-weighted share of guest memory that dirty logging has left mapped at 4K (`AggregateMmu.splitShares`). */
export function share4k(mmu: AggregateMmu, shares: readonly number[]): number {
  const split = mmu.splitShares();
  let share = 0;
  shares.forEach((w, i) => (share += w * split[i]!));
  return share;
}
