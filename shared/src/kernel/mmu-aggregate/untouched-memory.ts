import type { CostLedger } from '../mmu/cost-ledger.js';
import { CostId } from '../mmu/cost-profile.js';
import type { MmuStats } from '../mmu/mmu-stats.js';
import { PG_LEVEL_1G } from '../mmu/pg-level.js';
import { hugeUnits, type AggregateVmConfig } from './aggregate-vm.js';
import { mappedShare } from './page-class.js';

/**
 * Guest memory with no SPTE because the guest never touched it (`PageClass.mapped` < 1), per page class, and what
 * writes do to it while dirty logging is on: a write to an unmapped page is a not-present EPT violation mapped at
 * 4K, since `kvm_mmu_hugepage_adjust` returns early for a dirty-logged memslot (`if
 * (kvm_slot_dirty_track_enabled(slot)) return;`), and `make_spte` marks the page dirty itself
 * (`mark_page_dirty_in_slot`), so the write needs no PML entry or write-protection fault. The first such write in a
 * huge unit allocates its page table(s); the unit then holds a partly present 4K table, which the disable collapses
 * like a split unit. Enable, CLEAR and the disable find nothing to protect, split or zap in what stays unmapped.
 */
export class UntouchedMemory {
  /** Per class: fraction of its huge units with no SPTE at all. */
  private readonly units: number[];
  /** Per class: fraction of its 4K-backed pages with no SPTE. */
  private readonly small: number[];
  /** Per class: fraction of its huge units first mapped (at 4K) while logging, and of their pages present. */
  private readonly faulted: number[];
  private readonly faultedPresent: number[];
  /** Whether anything was unmapped at the start; when not, every method is a no-op. */
  private readonly any: boolean;

  constructor(
    private readonly cfg: AggregateVmConfig,
    private readonly level: 1 | 2 | 3,
    private readonly uPages: number,
  ) {
    this.units = cfg.classes.map((c) => 1 - mappedShare(c));
    this.small = [...this.units];
    this.faulted = cfg.classes.map(() => 0);
    this.faultedPresent = cfg.classes.map(() => 0);
    this.any = this.units.some((u) => u > 0);
  }

  /** Fraction of class i's 4K-backed pages that have an SPTE. */
  smallMapped(i: number): number {
    return 1 - this.small[i]!;
  }

  /** Pages of class i with no SPTE now. */
  unmappedPages(i: number): number {
    if (!this.any) return 0;
    const c = this.cfg.classes[i]!;
    const huge = hugeUnits(this.cfg, c);
    const hugeUnmapped = this.units[i]! + this.faulted[i]! * (1 - this.faultedPresent[i]!);
    return (c.pages - huge * this.uPages) * this.small[i]! + huge * this.uPages * hugeUnmapped;
  }

  /**
   * Writes while logging: `written[i]` distinct pages of class i written, each page of the class alike. The writes
   * that hit an unmapped page fault it in at 4K (charged to the vCPUs' `ledger`, counted as not-present faults).
   * Returns, per class, the pages so mapped: writes already logged by their fault.
   */
  mapWrites(written: readonly number[], ledger: CostLedger, stats: MmuStats): number[] {
    if (!this.any) return written.map(() => 0);
    const tablesPerUnit = this.level === PG_LEVEL_1G ? 2 : 1;
    return this.cfg.classes.map((c, i) => {
      const w = written[i] ?? 0;
      if (w <= 0) return 0;
      const q = Math.min(1, w / c.pages);
      const huge = hugeUnits(this.cfg, c);
      const newSmall = (c.pages - huge * this.uPages) * this.small[i]! * q;
      this.small[i] = this.small[i]! * (1 - q);
      let newHuge = 0;
      if (huge > 0) {
        const u = this.units[i]!;
        const f = this.faulted[i]!;
        const fp = this.faultedPresent[i]!;
        // A unit is first touched when any of its pages is written.
        const touched = q >= 1 ? 1 : -Math.expm1(this.uPages * Math.log1p(-q));
        const newUnits = u * touched;
        newHuge = this.uPages * (u + f * (1 - fp)) * q;
        this.units[i] = u - newUnits;
        this.faulted[i] = f + newUnits;
        if (this.faulted[i]! > 0) this.faultedPresent[i] = (f * fp + newHuge / this.uPages) / this.faulted[i]!;
        ledger.charge(CostId.sp_alloc_ns, huge * newUnits * tablesPerUnit);
        stats.spAllocated += huge * newUnits * tablesPerUnit;
        newHuge *= huge;
      }
      const mapped = newSmall + newHuge;
      ledger.charge(CostId.fault_not_present_ns, mapped);
      stats.faults.not_present += mapped;
      return mapped;
    });
  }

  /**
   * The units a disable collapses: class i's split units (`split[i]`, their pages `present[i]`) together with the
   * units first mapped at 4K while logging, as one population with the present share averaged (the teardown is
   * linear in it). The same arrays when nothing was faulted in.
   */
  collapsible(split: readonly number[], present: readonly number[]): { split: readonly number[]; present: readonly number[] } {
    if (!this.faulted.some((f) => f > 0)) return { split, present };
    const s = split.map((x, i) => x + this.faulted[i]!);
    const p = present.map((x, i) => (s[i]! > 0 ? (split[i]! * x + this.faulted[i]! * this.faultedPresent[i]!) / s[i]! : x));
    return { split: s, present: p };
  }
}
