import { ChunkedBitmap } from '../../common/chunked-bitmap.js';
import type { CostLedger } from './cost-ledger.js';
import { CostId } from './cost-profile.js';
import type { MmuStats } from './mmu-stats.js';
import { PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K, ROOT_LEVEL, SPTE_ENT_PER_PAGE, type Gfn } from './pg-level.js';
import { makeNonleafSpte, makeSpte, SHADOW_NONPRESENT_VALUE, type Spte } from './spte.js';

/** Kind of an SPTE above PG_LEVEL_4K, as stored in the per-entry state bytes. */
export const ENTRY_NONE = 0;
export const ENTRY_LEAF = 1;
export const ENTRY_TABLE = 2;
/** The kind bits (ENTRY_NONE / ENTRY_LEAF / ENTRY_TABLE) of a state byte. */
export const KIND_MASK = 3;
/** A huge leaf that is writable (PT_WRITABLE_MASK). */
export const ENTRY_W = 4;
/**
 * Model bookkeeping, not kernel state: the entry was zapped by disabling dirty logging so that it could be mapped
 * huge again; the next not-present fault on it is a `refault`.
 */
export const ENTRY_COLLAPSED = 8;

/** Who pays for a change: the thread's ledger and the VM's counters. */
export interface MmuAccount {
  readonly ledger: CostLedger;
  readonly stats: MmuStats;
}

const SPTE_4K_W = makeSpte(PG_LEVEL_4K, true);
const SPTE_4K_RO = makeSpte(PG_LEVEL_4K, false);
const SPTE_HUGE_W = makeSpte(PG_LEVEL_2M, true);
const SPTE_HUGE_RO = makeSpte(PG_LEVEL_2M, false);
const SPTE_NONLEAF = makeNonleafSpte();

/** 4K pages per 2M region and 2M regions per 1G region. */
const R2 = 512;
const G1_PAGES = 512 * 512;

/**
 * The TDP MMU page tables of one address space of one VM: one root (level 4), page-table pages (`sp`) per level and
 * leaf SPTEs at 4K / 2M / 1G.
 *
 * Storage is compact so that a 1 TiB guest fits in well under two bits per 4 KiB page: one state byte per SPTE above
 * PG_LEVEL_4K (`l4`, `l3` per 1 GiB, `l2` per 2 MiB: none / huge leaf / page table, plus the W bit of a huge leaf),
 * and for the 4K level two chunked bitmaps, `present` and `writable`, whose uniform 2 MiB chunks take no storage.
 * A 4K bit is meaningful only where the level-2 entry above it points to a page table.
 */
export class TdpMmu {
  /** Size of the gfn space covered, a multiple of 1 GiB of pages. */
  readonly nGfns: number;
  l4: Uint8Array;
  l3: Uint8Array;
  l2: Uint8Array;
  present: ChunkedBitmap;
  writable: ChunkedBitmap;
  /** Page-table pages by the level of the SPTEs they hold; index 4 is the root. */
  readonly spCount: number[] = [0, 0, 0, 0, 1];
  /** Mapped leaf SPTEs by level (`kvm->stat.pages[level]`). */
  readonly pages: number[] = [0, 0, 0, 0];

  constructor(endGfn: Gfn) {
    this.nGfns = Math.ceil(endGfn / G1_PAGES) * G1_PAGES;
    if (this.nGfns > 2 ** 31) throw new RangeError('guest physical memory above 8 TiB is not modelled');
    this.l4 = new Uint8Array(Math.ceil(this.nGfns / (G1_PAGES * 512)));
    this.l3 = new Uint8Array(this.nGfns / G1_PAGES);
    this.l2 = new Uint8Array(this.nGfns / R2);
    this.present = new ChunkedBitmap(this.nGfns);
    this.writable = new ChunkedBitmap(this.nGfns);
  }

  /** Deep copy, to evaluate several strategies from one state. */
  clone(): TdpMmu {
    const c = Object.create(TdpMmu.prototype) as TdpMmu;
    Object.assign(c, {
      nGfns: this.nGfns,
      l4: this.l4.slice(),
      l3: this.l3.slice(),
      l2: this.l2.slice(),
      present: this.present.clone(),
      writable: this.writable.clone(),
      spCount: [...this.spCount],
      pages: [...this.pages],
    });
    return c;
  }

  /** State byte of the SPTE at `level` (2..4) whose range holds gfn. */
  entry(level: number, gfn: Gfn): number {
    // gfn < 2^31 (checked in the constructor), so unsigned shifts are exact.
    if (level === PG_LEVEL_2M) return this.l2[gfn >>> 9]!;
    if (level === PG_LEVEL_1G) return this.l3[gfn >>> 18]!;
    return this.l4[gfn >>> 27]!;
  }

  entryKind(level: number, gfn: Gfn): number {
    return this.entry(level, gfn) & KIND_MASK;
  }

  private setEntry(level: number, gfn: Gfn, value: number): void {
    if (level === PG_LEVEL_2M) this.l2[gfn >>> 9] = value;
    else if (level === PG_LEVEL_1G) this.l3[gfn >>> 18] = value;
    else this.l4[gfn >>> 27] = value;
  }

  isCollapsed(level: number, gfn: Gfn): boolean {
    return (this.entry(level, gfn) & ENTRY_COLLAPSED) !== 0;
  }

  /** Marks (or unmarks) the non-present entry at level as zapped-for-collapse. */
  setCollapsed(level: number, gfn: Gfn, collapsed: boolean): void {
    const e = this.entry(level, gfn);
    this.setEntry(level, gfn, collapsed ? e | ENTRY_COLLAPSED : e & ~ENTRY_COLLAPSED);
  }

  /** The SPTE at (level, gfn), synthesised from the compact state (for tdp_iter and tests). */
  spteAt(level: number, gfn: Gfn): Spte {
    if (level === PG_LEVEL_4K) {
      if (!this.present.get(gfn)) return SHADOW_NONPRESENT_VALUE;
      return this.writable.get(gfn) ? SPTE_4K_W : SPTE_4K_RO;
    }
    const e = level === PG_LEVEL_2M ? this.l2[gfn >>> 9]! : level === PG_LEVEL_1G ? this.l3[gfn >>> 18]! : this.l4[gfn >>> 27]!;
    const kind = e & KIND_MASK;
    if (kind === ENTRY_TABLE) return SPTE_NONLEAF;
    if (kind === ENTRY_LEAF) return (e & ENTRY_W) !== 0 ? SPTE_HUGE_W : SPTE_HUGE_RO;
    return SHADOW_NONPRESENT_VALUE;
  }

  /**
   * The level of the leaf SPTE mapping gfn, or 0 when gfn is not mapped. Walks from the root like
   * `kvm_tdp_mmu_get_walk`.
   */
  mappingLevel(gfn: Gfn): number {
    if ((this.l4[gfn >>> 27]! & KIND_MASK) !== ENTRY_TABLE) return 0;
    const k3 = this.l3[gfn >>> 18]! & KIND_MASK;
    if (k3 === ENTRY_LEAF) return PG_LEVEL_1G;
    if (k3 !== ENTRY_TABLE) return 0;
    const k2 = this.l2[gfn >>> 9]! & KIND_MASK;
    if (k2 === ENTRY_LEAF) return PG_LEVEL_2M;
    if (k2 !== ENTRY_TABLE) return 0;
    return this.present.get(gfn) ? PG_LEVEL_4K : 0;
  }

  /**
   * Links an empty page table under the non-present SPTE at (level, gfn) (`tdp_mmu_link_sp`). `level` is the
   * level of the SPTE that will point to the new table.
   */
  linkSp(level: number, gfn: Gfn, acct: MmuAccount): void {
    const kind = this.entryKind(level, gfn);
    if (kind !== ENTRY_NONE) throw new Error(`linkSp over a present SPTE at level ${level}, gfn ${gfn}`);
    if (level === PG_LEVEL_1G) {
      const r0 = Math.floor(gfn / G1_PAGES) * 512;
      this.l2.fill(0, r0, r0 + 512);
    }
    this.setEntry(level, gfn, ENTRY_TABLE);
    this.spCount[level - 1]!++;
    acct.ledger.charge(CostId.sp_alloc_ns);
    acct.stats.spAllocated++;
  }

  /** Links every missing table on the path from the root down to the table holding SPTEs at `targetLevel`. */
  ensurePath(gfn: Gfn, targetLevel: number, acct: MmuAccount): void {
    for (let level = ROOT_LEVEL; level > targetLevel; level--) {
      const kind = this.entryKind(level, gfn);
      if (kind === ENTRY_TABLE) continue;
      if (kind === ENTRY_LEAF) throw new Error(`ensurePath through a huge leaf at level ${level}, gfn ${gfn}`);
      this.linkSp(level, gfn, acct);
    }
  }

  /**
   * Installs a leaf SPTE at (level, gfn) over whatever is there (`tdp_mmu_set_spte` + `handle_changed_spte`):
   * a page table under it is torn down (`handle_removed_pt`), and leaf stats are updated. The path above must exist.
   * For PG_LEVEL_4K only the single page is mapped.
   * Returns true when a present SPTE was replaced (the caller decides on the TLB flush).
   */
  setLeaf(level: number, gfn: Gfn, writable: boolean, acct: MmuAccount): boolean {
    if (level === PG_LEVEL_4K) {
      const newlyPresent = this.present.set(gfn);
      if (newlyPresent) this.pages[PG_LEVEL_4K]!++;
      if (writable) this.writable.set(gfn);
      else this.writable.clear(gfn);
      return !newlyPresent;
    }
    const old = this.entry(level, gfn);
    const oldKind = old & KIND_MASK;
    if (oldKind === ENTRY_TABLE) this.handleRemovedPt(level, gfn, acct);
    else if (oldKind === ENTRY_LEAF) this.pages[level]!--;
    this.setEntry(level, gfn, ENTRY_LEAF | (writable ? ENTRY_W : 0));
    this.pages[level]!++;
    return oldKind !== ENTRY_NONE;
  }

  /** Sets the W bit of the huge leaf at (level, gfn). */
  setHugeWritable(level: number, gfn: Gfn, writable: boolean): void {
    const e = this.entry(level, gfn);
    this.setEntry(level, gfn, writable ? e | ENTRY_W : e & ~ENTRY_W);
  }

  /**
   * Makes the SPTE at (level, gfn) non-present, tearing down any page table under it. `collapsed` marks a zap
   * done to let the region be mapped huge again.
   */
  zapEntry(level: number, gfn: Gfn, acct: MmuAccount, collapsed: boolean): void {
    if (level === PG_LEVEL_4K) {
      if (this.present.clear(gfn)) this.pages[PG_LEVEL_4K]!--;
      this.writable.clear(gfn);
      return;
    }
    const old = this.entry(level, gfn);
    const oldKind = old & KIND_MASK;
    if (oldKind === ENTRY_TABLE) this.handleRemovedPt(level, gfn, acct);
    else if (oldKind === ENTRY_LEAF) this.pages[level]!--;
    this.setEntry(level, gfn, collapsed ? ENTRY_COLLAPSED : ENTRY_NONE);
  }

  /**
   * Tears down the page table under the SPTE at (level, gfn) and everything below it (`handle_removed_pt`): every
   * child entry is frozen and passed to `handle_changed_spte`; present children cost more (stats, A/D propagation).
   * The caller overwrites the parent SPTE.
   */
  handleRemovedPt(level: number, gfn: Gfn, acct: MmuAccount): void {
    const { ledger, stats } = acct;
    if (level === PG_LEVEL_2M) {
      const r = Math.floor(gfn / R2);
      const n = this.present.chunkCount(r);
      ledger.charge(CostId.child_spte_teardown_ns, n);
      ledger.charge(CostId.child_spte_teardown_nonpresent_ns, SPTE_ENT_PER_PAGE - n);
      stats.childSptesTornDown += n;
      this.pages[PG_LEVEL_4K]! -= n;
      this.present.setChunkUniform(r, false);
      this.writable.setChunkUniform(r, false);
    } else if (level === PG_LEVEL_1G) {
      const r0 = Math.floor(gfn / G1_PAGES) * 512;
      let presentChildren = 0;
      for (let r = r0; r < r0 + 512; r++) {
        const kind = this.l2[r]! & KIND_MASK;
        if (kind === ENTRY_NONE) continue;
        presentChildren++;
        if (kind === ENTRY_TABLE) this.handleRemovedPt(PG_LEVEL_2M, r * R2, acct);
        else this.pages[PG_LEVEL_2M]!--;
      }
      this.l2.fill(ENTRY_NONE, r0, r0 + 512);
      ledger.charge(CostId.child_spte_teardown_ns, presentChildren);
      ledger.charge(CostId.child_spte_teardown_nonpresent_ns, SPTE_ENT_PER_PAGE - presentChildren);
      stats.childSptesTornDown += presentChildren;
    } else {
      throw new Error('tearing down a root is not modelled');
    }
    this.spCount[level - 1]!--;
    ledger.charge(CostId.sp_free_ns);
    stats.spFreed++;
  }

  /** Total page-table pages, the root included. */
  get spTotal(): number {
    return this.spCount[1]! + this.spCount[2]! + this.spCount[3]! + this.spCount[4]!;
  }

  /** Bytes the model's own state takes (not the page tables it models). */
  get stateBytes(): number {
    return this.l4.byteLength + this.l3.byteLength + this.l2.byteLength + this.present.byteLength + this.writable.byteLength;
  }
}

export { G1_PAGES, R2 };

/**
 * Splits the huge leaf at (level, gfn) into a page table of 512 SPTEs one level down (`tdp_mmu_split_huge_page`):
 * the children inherit the huge SPTE's permissions (`make_small_spte`). Returns false when there is no huge leaf.
 */
export function tdpMmuSplitHugePage(mmu: TdpMmu, level: number, gfn: Gfn, acct: MmuAccount): boolean {
  const e = mmu.entry(level, gfn);
  if ((e & KIND_MASK) !== ENTRY_LEAF || level < PG_LEVEL_2M) return false;
  const writable = (e & ENTRY_W) !== 0;
  if (level === PG_LEVEL_1G) {
    const g = Math.floor(gfn / G1_PAGES);
    mmu.l3[g] = ENTRY_TABLE;
    mmu.l2.fill(ENTRY_LEAF | (writable ? ENTRY_W : 0), g * 512, g * 512 + 512);
    mmu.pages[PG_LEVEL_1G]!--;
    mmu.pages[PG_LEVEL_2M]! += 512;
    mmu.spCount[PG_LEVEL_2M]!++;
  } else {
    const r = Math.floor(gfn / R2);
    mmu.l2[r] = ENTRY_TABLE;
    mmu.present.setChunkUniform(r, true);
    mmu.writable.setChunkUniform(r, writable);
    mmu.pages[PG_LEVEL_2M]!--;
    mmu.pages[PG_LEVEL_4K]! += 512;
    mmu.spCount[PG_LEVEL_4K]!++;
  }
  acct.ledger.charge(CostId.sp_alloc_ns);
  acct.ledger.charge(CostId.split_child_spte_ns, SPTE_ENT_PER_PAGE);
  acct.stats.spAllocated++;
  acct.stats.hugePagesSplit++;
  return true;
}
