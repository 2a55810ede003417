import { backingPageLevel } from '../mmu/backing-source.js';
import { CostLedger } from '../mmu/cost-ledger.js';
import { CostId } from '../mmu/cost-profile.js';
import type { MmuBehaviours } from '../mmu/mmu-behaviours.js';
import { MmuStats } from '../mmu/mmu-stats.js';
import { chargeRemoteTlbFlushes } from '../mmu/remote-tlb-flush.js';
import { KVM_MAX_HUGEPAGE_LEVEL, pagesPerHpage, PG_LEVEL_1G, PG_LEVEL_4K, SPTE_ENT_PER_PAGE } from '../mmu/pg-level.js';
import type { AggregateMmuState } from './aggregate-mmu-state.js';
import { hugeUnits, type AggregateVmConfig } from './aggregate-vm.js';
import { mappedShare } from './page-class.js';
import { unitTables } from './unit-tables.js';
import { UntouchedMemory } from './untouched-memory.js';

/** The cost ids and SPTE_ENT_PER_PAGE, read once into locals: this code runs for every step of every migration. */
const C = { ...CostId };
const ENTRIES = SPTE_ENT_PER_PAGE;

/**
 * One MMU of a VM during a migration, in counts (the TDP MMU, or the shadow MMU with rmaps): per page class, how
 * many huge units are split and how many of their 4K leaves are present; the dirty-logging operations charge the
 * same named costs as the detailed model (`../mmu`) in bulk, as this MMU does them (`mmu`: its behaviours). The
 * vCPU ledger sums all vCPUs. Only what the guest has touched is mapped (`PageClass.mapped`): enable, CLEAR, splits
 * and the disable work on that; writes to the rest fault it in at 4K (`UntouchedMemory`).
 */
export class CountedMmu {
  readonly ioctl: CostLedger;
  readonly vcpu: CostLedger;
  readonly stats = new MmuStats();
  /** KVM_SET_USER_MEMORY_REGION turning logging on, ns of the ioctl thread. */
  enableNs = 0;
  /** Per class: fraction of its huge units split to 4K, and fraction of a split unit's pages present. */
  private readonly split: number[];
  private readonly present: number[];
  private readonly level: 1 | 2 | 3;
  private readonly uPages: number;
  /** Per class: its huge units (`hugeUnits`), fixed for the VM. */
  private readonly huge: number[];
  /** Per class: fraction of its huge units mapped when logging starts (split or not). */
  private readonly mapped: number[];
  private readonly untouched: UntouchedMemory;
  /** Per class: fraction of its mapped, unsplit huge units a CLEAR has write-protected (initially set). */
  private readonly hugeProtected: number[];

  constructor(
    readonly cfg: AggregateVmConfig,
    readonly mmu: MmuBehaviours,
  ) {
    this.ioctl = new CostLedger(cfg.profile, 'ioctl');
    this.vcpu = new CostLedger(cfg.profile, 'vcpus');
    this.split = cfg.classes.map(() => 0);
    this.present = cfg.classes.map(() => 1);
    this.level = backingPageLevel(cfg.backing);
    this.uPages = pagesPerHpage(this.level);
    this.huge = cfg.classes.map((c) => hugeUnits(cfg, c));
    this.mapped = cfg.classes.map(mappedShare);
    this.untouched = new UntouchedMemory(cfg, this.level, this.uPages);
    this.hugeProtected = cfg.classes.map(() => 0);
  }

  /** What the disable evaluators read (never change): the paired counterfactuals start from it. */
  get state(): AggregateMmuState {
    return { cfg: this.cfg, mmu: this.mmu, level: this.level, uPages: this.uPages, ...this.untouched.collapsible(this.split, this.present) };
  }

  private flush(ledger: CostLedger, n: number, running: number): void {
    if (n <= 0) return;
    const stall = chargeRemoteTlbFlushes(ledger, this.stats, n, this.cfg.vcpus, running);
    this.stats.vcpuStallNs += stall;
    this.vcpu.wait(stall);
  }

  /** Splits `frac` of class i's mapped, unsplit huge units (eager split: all their pages present). */
  private splitUnits(i: number, frac: number, ledger: CostLedger): void {
    const units = this.huge[i]! * (this.mapped[i]! - this.split[i]!) * frac;
    if (units <= 0) return;
    const tablesPerUnit = unitTables(this.level);
    ledger.charge(C.sp_alloc_ns, units * tablesPerUnit);
    ledger.charge(C.split_child_spte_ns, units * tablesPerUnit * ENTRIES);
    this.stats.spAllocated += units * tablesPerUnit;
    this.stats.hugePagesSplit += units * tablesPerUnit;
    this.split[i] = this.split[i]! + (this.mapped[i]! - this.split[i]!) * frac;
  }

  /**
   * Leaf SPTEs mapping class i: its mapped 4K-backed pages, the present leaves of split units, the mapped unsplit
   * huge SPTEs.
   */
  private leaves(i: number): number {
    const c = this.cfg.classes[i]!;
    const huge = this.huge[i]!;
    return (c.pages - huge * this.uPages) * this.untouched.smallMapped(i) + huge * this.split[i]! * this.uPages * this.present[i]! + huge * (this.mapped[i]! - this.split[i]!);
  }

  /** Share of class i's pages mapped by a present 4K SPTE. */
  private present4k(i: number): number {
    const c = this.cfg.classes[i]!;
    const huge = this.huge[i]!;
    return ((c.pages - huge * this.uPages) * this.untouched.smallMapped(i) + huge * this.split[i]! * this.uPages * this.present[i]!) / c.pages;
  }

  /**
   * Per class: the share of its pages that dirty logging has left mapped at 4K over huge backing (the pages of split
   * units, and of units first mapped at 4K while logging), what the guest runs on 4K EPT mappings for.
   */
  splitShares(): number[] {
    const { split } = this.untouched.collapsible(this.split, this.present);
    return this.cfg.classes.map((c, i) => (this.huge[i]! * this.uPages * split[i]!) / c.pages);
  }

  /**
   * KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES (see `kvmEnableDirtyLogging`): nothing more with
   * manual-protect + initially-set; otherwise the TDP MMU eagerly splits (if enabled) and write-protects every leaf,
   * the shadow MMU walks every rmap head from 4K to 1G and write-protects the SPTEs it finds
   * (`kvmMmuSlotRemoveWriteAccess`). Then one flush.
   */
  enable(running: number): void {
    const t0 = this.ioctl.ns;
    this.ioctl.charge(C.memslot_update_ns);
    if (!this.cfg.manualProtect) {
      const n = this.cfg.classes.length;
      if (this.mmu.eagerPageSplit) for (let i = 0; i < n; i++) this.splitUnits(i, 1, this.ioctl);
      let leaves = 0;
      for (let i = 0; i < n; i++) leaves += this.leaves(i);
      if (!this.mmu.tdpMmu) {
        let heads = 0;
        for (let level = PG_LEVEL_4K; level <= KVM_MAX_HUGEPAGE_LEVEL; level++) heads += this.cfg.pages / pagesPerHpage(level);
        this.ioctl.charge(C.rmap_walk_ns, heads);
        this.ioctl.charge(C.rmap_spte_ns, leaves);
      }
      this.ioctl.charge(C.spte_wrprot_ns, leaves);
      this.flush(this.ioctl, 1, running);
    }
    this.enableNs += this.ioctl.ns - t0;
  }

  /** KVM_GET_DIRTY_LOG with manual protect: a bitmap copy. */
  getDirtyLog(): void {
    this.ioctl.charge(C.ioctl_ns);
    this.ioctl.charge(C.dirty_bitmap_copy_ns_per_kib, this.cfg.pages / 8 / 1024);
  }

  /**
   * The CLEAR_DIRTY_LOG calls of one pass, one per 1 GiB chunk that holds dirty pages, just before the chunk is
   * sent: `pages[i]` dirty pages and `words[i]` 64-page words with bits in class i, `chunks` calls in all. With
   * initially-set and eager split (TDP MMU), the huge pages holding cleared bits are split first. The TDP MMU
   * re-protects each page; the shadow MMU visits each page's 4K rmap head and re-protects the SPTE there, if any.
   * `share` is the fraction of guest memory these chunks cover (a step of a pass); counts are for that share;
   * `fresh` when the share has not been cleared before since logging started.
   */
  clearDirtyLog(pages: readonly number[], words: readonly number[], chunks: number, running: number, share: number, fresh: boolean): void {
    if (chunks <= 0) return;
    this.ioctl.charge(C.ioctl_ns, chunks);
    const initSet = this.cfg.manualProtect;
    const classes = this.cfg.classes;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      const p = pages[i] ?? 0;
      if (p <= 0) continue;
      this.ioctl.charge(C.dirty_log_word_ns, words[i] ?? 0);
      const huge = this.huge[i]!;
      // Mapped huge units still unsplit, the share of them this call clears bits in, and the 2M regions it does.
      const unsplitBefore = huge > 0 ? this.mapped[i]! - this.split[i]! : 0;
      const hitUnits = huge > 0 ? -Math.expm1(-p / ((share * c.pages) / this.uPages)) * share : 0;
      if (initSet && this.mmu.eagerPageSplit && huge > 0) {
        // Every huge unit holding a cleared bit is split. The cleared pages lie in `share` of the class's address
        // range (the chunks being cleared), spread evenly over its units.
        const perUnit = p / ((share * c.pages) / this.uPages);
        const dirtyUnits = -Math.expm1(-perUnit);
        // `fresh`: this share was never cleared since logging started (the first pass walks memory in order), so
        // all its mapped units are unsplit; otherwise its units are split like the class as a whole.
        const unsplit = this.mapped[i]! - this.split[i]!;
        if (unsplit > 0) this.splitUnits(i, fresh ? Math.min(1, (share * dirtyUnits * this.mapped[i]!) / unsplit) : share * dirtyUnits, this.ioctl);
      }
      // Without eager split the units holding cleared bits stay huge: their leaf is protected, and their pages have
      // no 4K leaf to protect. (With it, they were all split just now.)
      const eager = initSet && this.mmu.eagerPageSplit;
      if (initSet && !eager && unsplitBefore > 0) this.protectHuge(i, p, share, hitUnits);
      const hugeMapped = eager ? 0 : huge * this.uPages * unsplitBefore;
      if (this.mmu.tdpMmu) {
        // Bits of unmapped pages are cleared without an SPTE to protect.
        const unmapped = this.untouched.unmappedPages(i);
        const leafPages = c.pages - unmapped - hugeMapped;
        this.ioctl.charge(C.spte_wrprot_ns, unmapped > 0 || hugeMapped > 0 ? Math.min(p, leafPages * share) : p);
      } else {
        const sptes = p * this.present4k(i);
        this.ioctl.charge(C.rmap_walk_ns, p);
        this.ioctl.charge(C.rmap_spte_ns, sptes);
        this.ioctl.charge(C.spte_wrprot_ns, sptes);
      }
    }
    this.flush(this.ioctl, chunks, running);
  }

  /**
   * The initially-set part of `kvm_arch_mmu_enable_log_dirty_pt_masked` for class i's units still mapped huge
   * (eager split off, or the shadow MMU): `kvm_mmu_slot_gfn_write_protect(kvm, slot, start, PG_LEVEL_2M)` once per
   * 2M region with cleared bits, write-protecting the huge leaf there the first time (it stays protected: a write
   * splits it); on the shadow MMU through the region's 2M and 1G rmap heads, one SPTE found in one of them. The
   * 4K leaves' re-protection (`kvm_tdp_mmu_clear_dirty_pt_masked`) finds no 4K table under them ("Huge pages are NOT
   * write protected when we start dirty logging in initially-all-set mode; must write protect them here so that they
   * are split to 4K on the first write", arch/x86/kvm/mmu/mmu.c, since initially-all-set in 5.8). As
   * `splitAndProtectHuge` in `../mmu/dirty-log.ts`. `hitUnits`: the share of the class's units holding cleared bits.
   */
  private protectHuge(i: number, p: number, share: number, hitUnits: number): void {
    const c = this.cfg.classes[i]!;
    const huge = this.huge[i]!;
    const unsplit = this.mapped[i]! - this.split[i]!;
    if (unsplit <= 0) return;
    const wp = this.hugeProtected[i]!;
    this.ioctl.charge(C.spte_wrprot_ns, huge * unsplit * (1 - wp) * hitUnits);
    this.hugeProtected[i] = wp + (1 - wp) * Math.min(1, hitUnits);
    if (!this.mmu.tdpMmu) {
      const regions = (share * c.pages) / SPTE_ENT_PER_PAGE;
      const hitRegions = regions * -Math.expm1(-p / regions);
      this.ioctl.charge(C.rmap_walk_ns, hitRegions * (KVM_MAX_HUGEPAGE_LEVEL - PG_LEVEL_4K));
      this.ioctl.charge(C.rmap_spte_ns, hitRegions * ((huge * this.uPages * unsplit) / c.pages));
    }
  }

  /**
   * Guest writes of one pass: `written[i]` distinct pages of class i written after their chunk was cleared (each
   * tracked once: a PML entry or a write-protection fault, or, on a page not mapped yet, the not-present fault that
   * maps it), over `seconds`. Without eager split, huge units split on their first write. On the shadow MMU the
   * slow-path faults queue for mmu_lock held for write.
   */
  guestWrites(written: readonly number[], seconds: number): void {
    const before = this.vcpu.ns;
    const faultedIn = this.untouched.mapWrites(written, this.vcpu, this.stats);
    let tracked = 0;
    let slowFaults = 0;
    for (let i = 0; i < written.length; i++) {
      tracked += written[i]! - faultedIn[i]!;
      slowFaults += faultedIn[i]!;
    }
    // Without eager split, the first write to a unit splits it on fault and, split by zap and map 4K, its other
    // pages fault in as they are first touched: those writes are logged by their faults, not tracked again.
    if (!this.mmu.eagerPageSplit) {
      const lazy = this.lazySplit(written, seconds);
      slowFaults += lazy.slow;
      tracked -= lazy.logged;
    }
    if (tracked <= 0) {
      if (!this.mmu.tdpMmu) this.waitForMmuLock(slowFaults, seconds);
      this.stats.vcpuStallNs += this.vcpu.ns - before;
      return;
    }
    if (this.mmu.pml) {
      this.vcpu.charge(C.pml_logged_write_ns, tracked);
      this.stats.pmlLoggedWrites += tracked;
    } else if (this.mmu.fastPageFault) {
      this.vcpu.charge(C.fault_fast_ns, tracked);
      this.stats.faults.fast += tracked;
    } else {
      this.vcpu.charge(C.fault_slow_wp_ns, tracked);
      this.stats.faults.slow_wp += tracked;
      slowFaults += tracked;
    }
    if (!this.mmu.tdpMmu) this.waitForMmuLock(slowFaults, seconds);
    this.stats.vcpuStallNs += this.vcpu.ns - before;
  }

  /**
   * Without eager split, the first write to each huge unit splits it on fault (`splitOnFault`): zap and map 4K, the
   * unit's other pages then faulting in one by one as they are touched; or (TDP MMU, 6.2+) split in place, every
   * page present at once. `written[i]`: distinct pages of class i written (they decide the share of a unit's pages
   * touched, as sequential and random passes differ; reads add at their rate). Returns the slow-path faults taken
   * and the writes they logged (the write that splits a unit, and with zap and map 4K each write that maps a page:
   * `make_spte` marks it dirty, so it takes no PML entry or write-protection fault).
   */
  private lazySplit(written: readonly number[], seconds: number): { slow: number; logged: number } {
    let slow = 0;
    let logged = 0;
    const inPlace = this.mmu.tdpMmu && this.mmu.splitOnFault === 'in-place';
    const classes = this.cfg.classes;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      const huge = this.huge[i]!;
      if (huge <= 0 || c.writeRate <= 0) continue;
      const newly = huge * (this.mapped[i]! - this.split[i]!) * -Math.expm1(-c.writeRate * this.uPages * seconds);
      if (newly > 0) {
        // In place, a 1 GiB leaf is split one level per fault: the first write leaves 512 write-protected 2M leaves
        // (and splits its own), and the first write to each other 2M leaf splits it in another fault
        // (`kvm_tdp_mmu_map` calls `tdp_mmu_split_huge_page` at each huge SPTE above the goal level).
        const perUnit = inPlace && this.level === PG_LEVEL_1G ? Math.max(1, ENTRIES * -Math.expm1(-c.writeRate * ENTRIES * seconds)) : 1;
        const faults = newly * perUnit;
        this.vcpu.charge(C.fault_not_present_ns, faults);
        this.stats.faults.split_on_fault += faults;
        slow += faults;
        logged += faults;
        const s0 = this.split[i]!;
        this.split[i] = s0 + (this.mapped[i]! - s0) * -Math.expm1(-c.writeRate * this.uPages * seconds);
        if (inPlace) {
          // tdp_mmu_split_huge_page: every table of the unit filled from the huge SPTE; no flush.
          const tables = unitTables(this.level);
          this.vcpu.charge(C.sp_alloc_ns, newly * tables);
          this.vcpu.charge(C.split_child_spte_ns, newly * tables * ENTRIES);
          this.stats.spAllocated += newly * tables;
          this.stats.hugePagesSplit += newly * tables;
          this.present[i] = 1;
        } else {
          this.vcpu.charge(C.leaf_zap_ns, newly);
          this.stats.sptesZapped += newly;
          this.stats.hugePagesSplit += newly;
          const tables = this.level === 3 ? 2 : 1;
          this.vcpu.charge(C.sp_alloc_ns, newly * tables);
          this.stats.spAllocated += newly * tables;
          this.flush(this.vcpu, newly, this.cfg.vcpus);
          this.present[i] = s0 === 0 ? 1 / this.uPages : this.present[i]!;
        }
      }
      if (inPlace) continue;
      // A page is touched if written (`written[i]` of the class's pages) or read (at readRate over `seconds`).
      const w = Math.min(1, (written[i] ?? 0) / c.pages);
      const touched = 1 - (1 - w) * Math.exp(-c.readRate * seconds);
      const p0 = this.present[i]!;
      const p1 = p0 + (1 - p0) * touched;
      const faults = huge * this.split[i]! * this.uPages * (p1 - p0);
      if (faults > 0) {
        this.vcpu.charge(C.fault_not_present_ns, faults);
        this.stats.faults.not_present += faults;
        this.present[i] = p1;
        slow += faults;
        // Of the pages mapped now, those written (rather than only read) were logged by their fault.
        logged += touched > 0 ? faults * (w / touched) : 0;
      }
    }
    return { slow, logged };
  }

  /**
   * The shadow MMU's slow-path faults hold mmu_lock for write (`direct_page_fault`): `n` of them over `seconds`
   * need n × shadow_fault_locked_ns of the lock. Beyond saturation the vCPUs queue: a fluid queue filled at the
   * faults' rate and drained at the lock's gives a total wait of (n - T/h) × W / 2, at most every vCPU waiting
   * throughout; below saturation the waits are not modelled.
   */
  private waitForMmuLock(n: number, seconds: number): void {
    const h = this.cfg.profile.costs.shadow_fault_locked_ns;
    const demandNs = n * h;
    const periodNs = seconds * 1e9;
    if (h <= 0 || demandNs <= periodNs) return;
    this.vcpu.wait(Math.min(((n - periodNs / h) * demandNs) / 2, this.cfg.vcpus * demandNs));
  }
}
