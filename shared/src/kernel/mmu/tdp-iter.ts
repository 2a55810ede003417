import { pagesPerHpage, ROOT_LEVEL, type Gfn } from './pg-level.js';
import { isLastSpte, isShadowPresentPte, type Spte } from './spte.js';
import type { TdpMmu } from './tdp-mmu.js';

/**
 * The page-table walk cursor (`struct tdp_iter`, arch/x86/kvm/mmu/tdp_iter.c): a pre-order walk over the SPTEs
 * whose ranges intersect [start, end), at levels from the root down to `minLevel`: step down into a present
 * non-leaf SPTE, else sideways, else up. Fields carry the kernel's names: `gfn` (base gfn of the SPTE's range),
 * `level`, `oldSpte` (the value read), `nextLastLevelGfn` (where to resume after a yield), `yieldedGfn`,
 * `valid`, `yielded`.
 */
export class TdpIter {
  gfn: Gfn = 0;
  level = ROOT_LEVEL;
  oldSpte: Spte = 0;
  valid = false;
  yielded = false;
  nextLastLevelGfn: Gfn = 0;
  yieldedGfn: Gfn = 0;
  private minLevel = 1;
  private end: Gfn = 0;

  constructor(private readonly mmu: TdpMmu) {}

  /** `tdp_iter_start`. */
  startWalk(minLevel: number, start: Gfn, end: Gfn): this {
    this.minLevel = minLevel;
    this.end = Math.min(end, this.mmu.nGfns);
    this.nextLastLevelGfn = start;
    this.restart();
    if (start >= this.end) this.valid = false;
    return this;
  }

  /** `tdp_iter_restart`: back to the root, then down again towards nextLastLevelGfn (after a yield). */
  restart(): void {
    this.yielded = false;
    this.yieldedGfn = this.nextLastLevelGfn;
    this.level = ROOT_LEVEL;
    this.gfn = roundDown(this.nextLastLevelGfn, ROOT_LEVEL);
    this.read();
    this.valid = this.gfn < this.end;
  }

  /** `tdp_iter_next`: down, else sideways, else up and sideways. */
  next(): void {
    if (this.yielded) {
      this.restart();
      return;
    }
    if (this.tryStepDown()) {
      this.valid = this.gfn < this.end;
      return;
    }
    do {
      if (this.tryStepSide()) {
        this.valid = this.gfn < this.end;
        return;
      }
    } while (this.tryStepUp());
    this.valid = false;
  }

  private tryStepDown(): boolean {
    if (this.level === this.minLevel) return false;
    if (!isShadowPresentPte(this.oldSpte) || isLastSpte(this.oldSpte, this.level)) return false;
    this.level--;
    this.gfn = roundDown(this.nextLastLevelGfn, this.level);
    this.read();
    return true;
  }

  private tryStepSide(): boolean {
    const size = pagesPerHpage(this.level);
    if ((this.gfn + size) % (size * 512) === 0) return false; // last entry of its table
    this.gfn += size;
    this.nextLastLevelGfn = this.gfn;
    this.read();
    return true;
  }

  private tryStepUp(): boolean {
    if (this.level === ROOT_LEVEL) return false;
    this.level++;
    this.gfn = roundDown(this.gfn, this.level);
    return true;
  }

  /** The caller handled the current SPTE's subtree as a whole: do not step into it. */
  skipChildren(): void {
    this.oldSpte = 0;
  }

  /** Re-reads the SPTE at the cursor (after the caller changed it). */
  read(): void {
    this.oldSpte = this.mmu.spteAt(this.level, this.gfn);
  }

  /** Whether a yield now would make progress (`iter->next_last_level_gfn != iter->yielded_gfn`). */
  get canYield(): boolean {
    return this.nextLastLevelGfn !== this.yieldedGfn;
  }

  /** Marks a yield (`tdp_mmu_iter_cond_resched` returned true): the next step restarts from the root. */
  markYielded(): void {
    this.yielded = true;
  }
}

function roundDown(gfn: Gfn, level: number): Gfn {
  const size = pagesPerHpage(level);
  return gfn - (gfn % size);
}

/**
 * `for_each_tdp_pte_min_level`: calls fn(iter) for each SPTE of the walk; fn may change the SPTE at the cursor and
 * call `iter.read()` or `iter.skipChildren()` before the walk continues.
 */
export function forEachTdpPte(mmu: TdpMmu, minLevel: number, start: Gfn, end: Gfn, fn: (iter: TdpIter) => void): void {
  const iter = new TdpIter(mmu).startWalk(minLevel, start, end);
  while (iter.valid) {
    fn(iter);
    iter.next();
  }
}
