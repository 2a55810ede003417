import { backingPageLevel } from '../mmu/backing-source.js';
import { CostLedger } from '../mmu/cost-ledger.js';
import { CostId } from '../mmu/cost-profile.js';
import type { DisableStrategy } from '../mmu/disable-strategy.js';
import { MmuStats } from '../mmu/mmu-stats.js';
import { pagesPerHpage } from '../mmu/pg-level.js';
import { chargeRemoteTlbFlushes } from '../mmu/remote-tlb-flush.js';
import type { AggregateDisable } from './aggregate-disable.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { hugeUnits, type AggregateVmConfig } from './aggregate-vm.js';
import { mappedShare, type PageClass } from './page-class.js';
import { recoverHugePagesDisable } from './recover-huge-pages-disable.js';
import { unitTables } from './unit-tables.js';
import { UntouchedMemory } from './untouched-memory.js';
import { zapCollapsibleDisable } from './zap-collapsible-disable.js';
import { zapLeafDisable } from './zap-leaf-disable.js';

/** Pages per QEMU dirty-bitmap clear chunk (`x-clear-bitmap-shift` 18: 1 GiB). */
export const CLEAR_CHUNK_PAGES = 1 << 18;

/**
 * The TDP MMU of one VM during a migration, in counts: per page class, how many huge units are split and how many
 * of their 4K leaves are present; the dirty-logging operations charge the same named costs as the detailed model
 * (`../mmu`) in bulk. The vCPU ledger sums all vCPUs. Only what the guest has touched is mapped
 * (`PageClass.mapped`): enable, CLEAR, splits and the disable work on that; writes to the rest fault it in at 4K
 * (`UntouchedMemory`).
 */
export class AggregateMmu {
  readonly ioctl: CostLedger;
  readonly vcpu: CostLedger;
  readonly stats = new MmuStats();
  /** Per class: fraction of its huge units split to 4K, and fraction of a split unit's pages present. */
  private readonly split: number[];
  private readonly present: number[];
  private readonly level: 1 | 2 | 3;
  private readonly uPages: number;
  /** Per class: fraction of its huge units mapped when logging starts (split or not). */
  private readonly mapped: number[];
  private readonly untouched: UntouchedMemory;
  private logging = false;

  constructor(readonly cfg: AggregateVmConfig) {
    this.ioctl = new CostLedger(cfg.profile, 'ioctl');
    this.vcpu = new CostLedger(cfg.profile, 'vcpus');
    this.split = cfg.classes.map(() => 0);
    this.present = cfg.classes.map(() => 1);
    this.level = backingPageLevel(cfg.backing);
    this.uPages = pagesPerHpage(this.level);
    this.mapped = cfg.classes.map(mappedShare);
    this.untouched = new UntouchedMemory(cfg, this.level, this.uPages);
  }

  get classes(): readonly PageClass[] {
    return this.cfg.classes;
  }

  private flush(ledger: CostLedger, n: number, running: number): void {
    if (n <= 0) return;
    const stall = chargeRemoteTlbFlushes(ledger, this.stats, n, this.cfg.vcpus, running);
    this.stats.vcpuStallNs += stall;
    this.vcpu.wait(stall);
  }

  /** Splits `frac` of class i's mapped, unsplit huge units (eager split: all their pages present). */
  private splitUnits(i: number, frac: number, ledger: CostLedger): void {
    const c = this.cfg.classes[i]!;
    const units = hugeUnits(this.cfg, c) * (this.mapped[i]! - this.split[i]!) * frac;
    if (units <= 0) return;
    const tablesPerUnit = unitTables(this.level);
    ledger.charge(CostId.sp_alloc_ns, units * tablesPerUnit);
    ledger.charge(CostId.split_child_spte_ns, units * tablesPerUnit * 512);
    this.stats.spAllocated += units * tablesPerUnit;
    this.stats.hugePagesSplit += units * tablesPerUnit;
    this.split[i] = this.split[i]! + (this.mapped[i]! - this.split[i]!) * frac;
  }

  /** KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES (see `kvmEnableDirtyLogging`). */
  enable(running: number): void {
    this.logging = true;
    this.ioctl.charge(CostId.memslot_update_ns);
    if (this.cfg.manualProtect) return;
    if (this.cfg.eagerPageSplit) this.cfg.classes.forEach((_, i) => this.splitUnits(i, 1, this.ioctl));
    let leaves = 0;
    this.cfg.classes.forEach((c, i) => {
      const huge = hugeUnits(this.cfg, c);
      leaves +=
        (c.pages - huge * this.uPages) * this.untouched.smallMapped(i) + huge * this.split[i]! * this.uPages * this.present[i]! + huge * (this.mapped[i]! - this.split[i]!);
    });
    this.ioctl.charge(CostId.spte_wrprot_ns, leaves);
    this.flush(this.ioctl, 1, running);
  }

  /** KVM_GET_DIRTY_LOG with manual protect: a bitmap copy. */
  getDirtyLog(): void {
    this.ioctl.charge(CostId.ioctl_ns);
    this.ioctl.charge(CostId.dirty_bitmap_copy_ns_per_kib, this.cfg.pages / 8 / 1024);
  }

  /**
   * The CLEAR_DIRTY_LOG calls of one pass, one per 1 GiB chunk that holds dirty pages, just before the chunk is
   * sent: `pages[i]` dirty pages and `words[i]` 64-page words with bits in class i, `chunks` calls in all. With
   * initially-set and eager split, the huge pages holding cleared bits are split first. `share` is the fraction
   * of guest memory these chunks cover (a step of a pass); counts are for that share; `fresh` when the share
   * has not been cleared before since logging started.
   */
  clearDirtyLog(
    pages: readonly number[],
    words: readonly number[],
    chunks: number,
    running: number,
    share: number = 1,
    fresh: boolean = false,
  ): void {
    if (chunks <= 0) return;
    this.ioctl.charge(CostId.ioctl_ns, chunks);
    const initSet = this.cfg.manualProtect;
    this.cfg.classes.forEach((c, i) => {
      const p = pages[i] ?? 0;
      if (p <= 0) return;
      this.ioctl.charge(CostId.dirty_log_word_ns, words[i] ?? 0);
      const huge = hugeUnits(this.cfg, c);
      if (initSet && this.cfg.eagerPageSplit && huge > 0) {
        // Every huge unit holding a cleared bit is split. The cleared pages lie in `share` of the class's address
        // range (the chunks being cleared), spread evenly over its units.
        const perUnit = p / ((share * c.pages) / this.uPages);
        const dirtyUnits = -Math.expm1(-perUnit);
        // `fresh`: this share was never cleared since logging started (the first pass walks memory in order), so
        // all its mapped units are unsplit; otherwise its units are split like the class as a whole.
        const unsplit = this.mapped[i]! - this.split[i]!;
        if (unsplit > 0) this.splitUnits(i, fresh ? Math.min(1, (share * dirtyUnits * this.mapped[i]!) / unsplit) : share * dirtyUnits, this.ioctl);
      }
      // Bits of unmapped pages are cleared without an SPTE to protect.
      const unmapped = this.untouched.unmappedPages(i);
      this.ioctl.charge(CostId.spte_wrprot_ns, unmapped > 0 ? Math.min(p, (c.pages - unmapped) * share) : p);
    });
    this.flush(this.ioctl, chunks, running);
  }

  /**
   * Guest writes of one pass: `written[i]` distinct pages of class i written after their chunk was cleared (each
   * tracked once: a PML entry or a write-protection fault, or, on a page not mapped yet, the not-present fault that
   * maps it), over `seconds`.
   */
  guestWrites(written: readonly number[], seconds: number): void {
    const before = this.vcpu.ns;
    const faultedIn = this.untouched.mapWrites(written, this.vcpu, this.stats);
    let tracked = 0;
    written.forEach((w, i) => (tracked += w - faultedIn[i]!));
    if (tracked <= 0) {
      this.stats.vcpuStallNs += this.vcpu.ns - before;
      return;
    }
    if (this.cfg.pml) {
      this.vcpu.charge(CostId.pml_logged_write_ns, tracked);
      this.stats.pmlLoggedWrites += tracked;
    } else if (this.cfg.fastPageFault) {
      this.vcpu.charge(CostId.fault_fast_ns, tracked);
      this.stats.faults.fast += tracked;
    } else {
      this.vcpu.charge(CostId.fault_slow_wp_ns, tracked);
      this.stats.faults.slow_wp += tracked;
    }
    if (!this.cfg.eagerPageSplit) this.lazySplit(seconds);
    this.stats.vcpuStallNs += this.vcpu.ns - before;
  }

  /** Without eager split: the first write to each huge unit splits it on fault; other pages then fault one by one. */
  private lazySplit(seconds: number): void {
    this.cfg.classes.forEach((c, i) => {
      const huge = hugeUnits(this.cfg, c);
      if (huge <= 0 || c.writeRate <= 0) return;
      const newly = huge * (this.mapped[i]! - this.split[i]!) * -Math.expm1(-c.writeRate * this.uPages * seconds);
      if (newly > 0) {
        this.vcpu.charge(CostId.fault_not_present_ns, newly);
        this.vcpu.charge(CostId.leaf_zap_ns, newly);
        this.stats.faults.split_on_fault += newly;
        this.stats.sptesZapped += newly;
        this.stats.hugePagesSplit += newly;
        const tables = this.level === 3 ? 2 : 1;
        this.vcpu.charge(CostId.sp_alloc_ns, newly * tables);
        this.stats.spAllocated += newly * tables;
        this.flush(this.vcpu, newly, this.cfg.vcpus);
        const s0 = this.split[i]!;
        this.split[i] = s0 + (this.mapped[i]! - s0) * -Math.expm1(-c.writeRate * this.uPages * seconds);
        this.present[i] = s0 === 0 ? 1 / this.uPages : this.present[i]!;
      }
      const access = c.writeRate + c.readRate;
      const p0 = this.present[i]!;
      const p1 = p0 + (1 - p0) * -Math.expm1(-access * seconds);
      const faults = huge * this.split[i]! * this.uPages * (p1 - p0);
      if (faults > 0) {
        this.vcpu.charge(CostId.fault_not_present_ns, faults);
        this.stats.faults.not_present += faults;
        this.present[i] = p1;
      }
    });
  }

  /**
   * Per class: the share of its pages that dirty logging has left mapped at 4K over huge backing (the pages of split
   * units, and of units first mapped at 4K while logging), what the guest runs on 4K EPT mappings for.
   */
  splitShares(): number[] {
    const { split } = this.untouched.collapsible(this.split, this.present);
    return this.cfg.classes.map((c, i) => (hugeUnits(this.cfg, c) * this.uPages * split[i]!) / c.pages);
  }

  get dirtyLogging(): boolean {
    return this.logging;
  }

  /**
   * Evaluates disabling dirty logging under `strategy` from the current state (a paired counterfactual: the state
   * is not changed). `running`: vCPUs in guest mode during the disable (0 when the VM is stopped); `rateScale`:
   * the workload's speed afterwards (1 unthrottled); touches after the disable refault zapped units.
   */
  evaluateDisable(strategy: DisableStrategy, running: number, rateScale: number): AggregateDisable {
    const state: AggregateMmuState = { cfg: this.cfg, level: this.level, uPages: this.uPages, ...this.untouched.collapsible(this.split, this.present) };
    switch (strategy) {
      case 'zap-leaf':
        return zapLeafDisable(state, running, rateScale);
      case 'zap':
      case 'zap-batched':
        return zapCollapsibleDisable(state, strategy, running, rateScale);
      case 'promote':
        return recoverHugePagesDisable(state, running, rateScale);
    }
  }
}
