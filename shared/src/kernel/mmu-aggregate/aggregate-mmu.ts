import { CostLedger } from '../mmu/cost-ledger.js';
import { CostId } from '../mmu/cost-profile.js';
import type { DisableStrategy } from '../mmu/disable-strategy.js';
import { MmuStats } from '../mmu/mmu-stats.js';
import { pagesPerHpage } from '../mmu/pg-level.js';
import { chargeRemoteTlbFlushes, remoteTlbFlushNs } from '../mmu/remote-tlb-flush.js';
import type { PageClass } from './page-class.js';
import { backingPageLevel } from '../mmu/backing-source.js';
import { hugeUnits, type AggregateVmConfig } from './aggregate-vm.js';
import { erf } from './erf.js';

/** Pages per QEMU dirty-bitmap clear chunk (`x-clear-bitmap-shift` 18: 1 GiB). */
export const CLEAR_CHUNK_PAGES = 1 << 18;

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

/**
 * The TDP MMU of one VM during a migration, in counts: per page class, how many huge units are split and how many
 * of their 4K leaves are present; the dirty-logging operations charge the same named costs as the detailed model
 * (`../mmu`) in bulk. The vCPU ledger sums all vCPUs.
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
  private logging = false;

  constructor(readonly cfg: AggregateVmConfig) {
    this.ioctl = new CostLedger(cfg.profile, 'ioctl');
    this.vcpu = new CostLedger(cfg.profile, 'vcpus');
    this.split = cfg.classes.map(() => 0);
    this.present = cfg.classes.map(() => 1);
    this.level = backingPageLevel(cfg.backing);
    this.uPages = pagesPerHpage(this.level);
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

  /** Splits `frac` of class i's unsplit huge units (eager split: all their pages present). */
  private splitUnits(i: number, frac: number, ledger: CostLedger): void {
    const c = this.cfg.classes[i]!;
    const units = hugeUnits(this.cfg, c) * (1 - this.split[i]!) * frac;
    if (units <= 0) return;
    const tablesPerUnit = this.level === 3 ? 513 : 1;
    ledger.charge(CostId.sp_alloc_ns, units * tablesPerUnit);
    ledger.charge(CostId.split_child_spte_ns, units * tablesPerUnit * 512);
    this.stats.spAllocated += units * tablesPerUnit;
    this.stats.hugePagesSplit += units * tablesPerUnit;
    this.split[i] = this.split[i]! + (1 - this.split[i]!) * frac;
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
      leaves += (c.pages - huge * this.uPages) + huge * this.split[i]! * this.uPages * this.present[i]! + huge * (1 - this.split[i]!);
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
        // all its units are unsplit; otherwise its units are split like the class as a whole.
        const unsplit = 1 - this.split[i]!;
        if (unsplit > 0) this.splitUnits(i, fresh ? Math.min(1, (share * dirtyUnits) / unsplit) : share * dirtyUnits, this.ioctl);
      }
      this.ioctl.charge(CostId.spte_wrprot_ns, p);
    });
    this.flush(this.ioctl, chunks, running);
  }

  /**
   * Guest writes of one pass: `written[i]` distinct pages of class i written after their chunk was cleared (each
   * tracked once: a PML entry or a write-protection fault), over `seconds`.
   */
  guestWrites(written: readonly number[], seconds: number): void {
    let tracked = 0;
    written.forEach((w) => (tracked += w));
    if (tracked <= 0) return;
    const before = this.vcpu.ns;
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
      const newly = huge * (1 - this.split[i]!) * -Math.expm1(-c.writeRate * this.uPages * seconds);
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
        this.split[i] = s0 + (1 - s0) * -Math.expm1(-c.writeRate * this.uPages * seconds);
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

  get dirtyLogging(): boolean {
    return this.logging;
  }

  /**
   * Evaluates disabling dirty logging under `strategy` from the current state (a paired counterfactual: the state
   * is not changed). `running`: vCPUs in guest mode during the disable (0 when the VM is stopped); `rateScale`:
   * the workload's speed afterwards (1 unthrottled); touches after the disable refault zapped units.
   */
  evaluateDisable(strategy: DisableStrategy, running: number, rateScale: number): AggregateDisable {
    const cfg = this.cfg;
    const costs = cfg.profile.costs;
    const ledger = new CostLedger(cfg.profile, 'ioctl');
    const vcpu = new CostLedger(cfg.profile, 'vcpus');
    const stats = new MmuStats();
    const flushNs = remoteTlbFlushNs(costs, cfg.vcpus, running);
    const flushN = (n: number) => vcpu.wait(chargeRemoteTlbFlushes(ledger, stats, n, cfg.vcpus, running));
    ledger.charge(CostId.memslot_update_ns);
    const t0 = ledger.ns;
    const pages = cfg.pages;
    const g1 = Math.ceil(pages / 262144);
    const regions = Math.ceil(pages / 512);
    const pNotify = cfg.bailouts.mmu_notifier_in_progress;
    const pPfn = cfg.backing === 'anonymous_thp' ? cfg.bailouts.pfn_not_mappable : 0;
    const pMemtype = cfg.bailouts.memtype_needs_vcpu;
    const pInvalid = cfg.bailouts.invalid_pfn;
    const pFallback = 1 - (1 - pNotify) * (1 - pMemtype) * (1 - pInvalid);
    let walk = 1 + g1 + (this.level === 3 && strategy !== 'zap-leaf' ? 0 : regions);
    let collapsed = 0;
    /** Collapsed units awaiting a refault, per class (for the storm). */
    const zappedPerClass: number[] = [];
    let refaultExtraNs = 0;
    let raceRefaults = 0;
    let raceStallNs = 0;
    this.cfg.classes.forEach((c, i) => {
      const units = hugeUnits(cfg, c) * this.split[i]! * (1 - pPfn);
      if (strategy === 'promote') stats.bailouts.pfn_not_mappable += hugeUnits(cfg, c) * this.split[i]! * pPfn;
      const leaves = this.uPages * this.present[i]!;
      const tables = this.level === 3 ? 513 : 1;
      const access = (c.writeRate + c.readRate) * rateScale;
      zappedPerClass.push(0);
      if (units <= 0) return;
      if (strategy === 'zap-leaf') {
        // Each present leaf is zapped with a flush; a running vCPU touching a zapped page first refaults the unit.
        const q = costs.leaf_zap_ns + flushNs;
        let zapped = leaves;
        let pRace = 0;
        if (running > 0 && access > 0) {
          const a = access / 1e9;
          const s = Math.sqrt(a / (2 * q));
          const meanNs = Math.sqrt((Math.PI * q) / (2 * a)) * erf(leaves * q * s);
          zapped = Math.min(leaves, Math.max(1, meanNs / q));
          pRace = 1 - Math.exp(-(a * leaves * leaves * q) / 2);
        }
        // Over 1 GiB units the walk reads the 4K entries of each 2M table it zaps in; a refault mid-walk maps the
        // whole unit 1G, and the walk then reads only the dead table's 2M entries (counted in `walk` below).
        const tablesWalked = this.level === 3 ? Math.min(512, Math.ceil(zapped / Math.max(1, 512 * this.present[i]!))) : 1;
        ledger.charge(CostId.spte_walk_ns, units * Math.max(0, tablesWalked * 512 - zapped));
        ledger.charge(CostId.leaf_zap_ns, units * zapped);
        flushN(units * zapped);
        stats.sptesZapped += units * zapped;
        if (this.level === 3) walk += units * 512;
        // Units refaulted mid-zap: the vCPU tears the rest down at once.
        const raced = units * pRace;
        raceRefaults += raced;
        const leftover = Math.max(0, leaves - zapped);
        raceStallNs += raced * (costs.fault_not_present_ns + leftover * costs.child_spte_teardown_ns + (tables * 512 - leftover) * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + flushNs);
        stats.childSptesTornDown += raced * leftover;
        stats.spFreed += raced * tables;
        const later = units - raced;
        zappedPerClass[i] = later;
        // A later refault replaces the emptied table(s): teardown of non-present entries, table frees, a flush.
        refaultExtraNs += later * (tables * 512 * costs.child_spte_teardown_nonpresent_ns + tables * costs.sp_free_ns + flushNs);
        stats.spFreed += later * tables;
        collapsed += units;
        return;
      }
      const perTable = 512 * this.present[i]!;
      const children = this.level === 3 ? 512 + 512 * perTable : perTable;
      const nonpresent = this.level === 3 ? 512 * (512 - perTable) : 512 - perTable;
      ledger.charge(CostId.nonleaf_spte_replace_ns, units);
      ledger.charge(CostId.child_spte_teardown_ns, units * children);
      ledger.charge(CostId.child_spte_teardown_nonpresent_ns, units * nonpresent);
      ledger.charge(CostId.sp_free_ns, units * tables);
      stats.childSptesTornDown += units * children;
      stats.spFreed += units * tables;
      if (strategy === 'promote') {
        const fallback = units * pFallback;
        stats.bailouts.mmu_notifier_in_progress += units * pNotify;
        stats.bailouts.memtype_needs_vcpu += units * (1 - pNotify) * pMemtype;
        stats.bailouts.invalid_pfn += units * (1 - pNotify) * (1 - pMemtype) * pInvalid;
        stats.hugePagesPromoted += units - fallback;
        stats.sptesZapped += fallback;
        zappedPerClass[i] = fallback;
      } else {
        stats.sptesZapped += units;
        zappedPerClass[i] = units;
        if (strategy === 'zap') {
          flushN(units);
          // A vCPU touching the frozen SPTE waits out the flush.
          if (running > 0) vcpu.wait(units * (access * this.uPages / 1e9) * flushNs * flushNs / 2);
        }
      }
      collapsed += units;
    });
    ledger.charge(CostId.spte_walk_ns, walk);
    // Yields of the walk (each restarts from the root: two more SPTEs read); batched strategies flush at each.
    const interval = cfg.profile.params.cond_resched_interval_ns;
    const yields = Math.floor((ledger.ns - t0) / interval);
    ledger.charge(CostId.spte_walk_ns, 2 * yields);
    stats.yields += yields;
    // The final flush happens when anything was zapped or promoted (with expected counts below one unit, that many).
    if ((strategy === 'zap-batched' || strategy === 'promote') && collapsed > 0) flushN(yields + Math.min(1, collapsed));
    const disableNs = ledger.ns;

    // The refault storm: every zapped unit comes back on its first touch; those touched while the walk still runs
    // count as refaults during the disable.
    const walkNs = disableNs - t0;
    let refaults = raceRefaults;
    let during = raceRefaults;
    const refaultNs = costs.fault_not_present_ns;
    this.cfg.classes.forEach((c, i) => {
      const z = zappedPerClass[i]!;
      if (z <= 0) return;
      const mu = (c.writeRate + c.readRate) * rateScale * this.uPages;
      if (mu <= 0) return;
      refaults += z;
      // Touches during the walk need vCPUs in guest mode; a paused VM refaults only once it runs again.
      const x = running > 0 ? (mu * walkNs) / 1e9 : 0;
      during += x > 0 ? z * (1 - -Math.expm1(-x) / x) : 0;
    });
    stats.faults.refault += refaults;
    const stormNs = (refaults - raceRefaults) * refaultNs + (strategy === 'zap-leaf' ? refaultExtraNs : 0);
    const vcpuStallNs = vcpu.ns + raceStallNs + stormNs;
    stats.vcpuStallNs += vcpuStallNs;
    // zap-leaf leaves empty tables behind: each refault replaces one and flushes.
    if (strategy === 'zap-leaf') stats.tlbFlushes += refaults;
    return {
      strategy,
      ioctlNs: disableNs,
      stats,
      vcpuStallNs,
      refaultsDuringDisable: during,
      hugeCoverageRestoredS: this.coverageRestoredS(zappedPerClass, rateScale, pPfn),
    };
  }

  /** Seconds until 99 % of the zapped units are refaulted (touch rates per unit), null when it never happens. */
  private coverageRestoredS(zapped: readonly number[], rateScale: number, pPfn: number): number | null {
    if (pPfn > 0) return null;
    let total = 0;
    let never = 0;
    const rates: { m: number; mu: number }[] = [];
    this.cfg.classes.forEach((c, i) => {
      const m = zapped[i] ?? 0;
      if (m <= 0) return;
      total += m;
      const mu = (c.writeRate + c.readRate) * rateScale * this.uPages;
      if (mu <= 0) never += m;
      else rates.push({ m, mu });
    });
    if (total <= 0) return 0;
    if (never > 0.01 * total) return null;
    const left = (t: number) => never + rates.reduce((s, r) => s + r.m * Math.exp(-r.mu * t), 0);
    let lo = 0;
    let hi = 1;
    while (left(hi) > 0.01 * total && hi < 1e9) hi *= 2;
    if (hi >= 1e9) return null;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (left(mid) > 0.01 * total) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}
