import type { CostLedger } from './cost-ledger.js';
import { CostId } from './cost-profile.js';
import type { FaultKind } from './fault-kind.js';
import type { Kvm } from './kvm.js';
import { pagesPerHpage, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K, type Gfn } from './pg-level.js';
import { ENTRY_TABLE, ENTRY_W, R2, tdpMmuSplitHugePage, type MmuAccount } from './tdp-mmu.js';
import type { Vcpu } from './vcpu.js';

/**
 * Guest accesses and the faults they take, as `kvm_tdp_mmu_page_fault` / `fast_page_fault` / `kvm_tdp_mmu_map` do
 * for a vCPU that touches one page (and the shadow MMU's `direct_page_fault` / `direct_map`, with `mmu_lock` held
 * for write on the slow path):
 * - mapped and (a read, or a writable SPTE): no exit;
 * - a write to a write-protected 4K SPTE: PML logs it (D-bit tracking) or a fast / slow write-protection fault makes
 *   it writable and marks the gfn dirty;
 * - a write to a write-protected huge SPTE while the slot is dirty-logged: lazy split (`splitOnFault`);
 * - not present: the slow path maps the gfn at its max level (4K while dirty-logged) less the NX adjustment
 *   (`disallowedHugepageAdjust`), writable because TDP faults map with ACC_ALL, and marks it dirty when the slot is
 *   logged (`make_spte` → `mark_page_dirty_in_slot`).
 */
export function kvmGuestAccess(kvm: Kvm, vcpu: Vcpu, gfn: Gfn, write: boolean): void {
  const mmu = kvm.mmu;
  const acct = kvm.vcpuAccount(vcpu);
  const ledger = vcpu.ledger;
  const level = mmu.mappingLevel(gfn);
  if (level === PG_LEVEL_4K) {
    ledger.charge(CostId.guest_access_4k_ns);
    if (!write || mmu.writable.get(gfn)) return;
    writeProtectionFault(kvm, vcpu, gfn, 1);
    mmu.writable.set(gfn);
    return;
  }
  if (level > PG_LEVEL_4K) {
    if (!write || (mmu.entry(level, gfn) & ENTRY_W) !== 0) {
      ledger.charge(CostId.guest_access_huge_ns);
      return;
    }
    const slot = kvm.slotOf(gfn)!;
    if (!slot.dirtyLogging) {
      // A huge SPTE left write-protected (e.g. promoted from a write-protected child): fixed in place.
      ledger.charge(CostId.guest_access_huge_ns);
      writeProtectionFault(kvm, vcpu, gfn, 1);
      mmu.setHugeWritable(level, gfn, true);
      return;
    }
    splitOnFault(kvm, vcpu, gfn, level, acct);
    return;
  }
  notPresentFault(kvm, vcpu, gfn);
  ledger.charge(mmu.mappingLevel(gfn) === PG_LEVEL_4K ? CostId.guest_access_4k_ns : CostId.guest_access_huge_ns);
}

/** `n` writes to write-protected 4K SPTEs (or D-clean ones with PML), all on present pages. Marks nothing. */
function writeProtectionFault(kvm: Kvm, vcpu: Vcpu, gfn: Gfn, n: number): void {
  const slot = kvm.slotOf(gfn)!;
  const ledger = vcpu.ledger;
  const before = ledger.ns;
  if (slot.dirtyLogging) {
    if (kvm.config.pml) {
      ledger.charge(CostId.pml_logged_write_ns, n);
      kvm.stats.pmlLoggedWrites += n;
    } else chargeWpFault(kvm, vcpu, n);
    kvm.dirtyBitmap.set(gfn);
  } else chargeWpFault(kvm, vcpu, n);
  kvm.stats.vcpuStallNs += ledger.ns - before;
}

/**
 * Charges `n` write-protection faults to the vCPU and counts them by kind: `fast_page_fault` fixes them locklessly
 * when the kernel has it, the slow path otherwise. Also used by the bulk pass (`guestAccessSequential`).
 */
export function chargeWpFault(kvm: Kvm, vcpu: Vcpu, n: number): void {
  const kind: FaultKind = kvm.config.fastPageFault ? 'fast' : 'slow_wp';
  vcpu.ledger.charge(kind === 'fast' ? CostId.fault_fast_ns : CostId.fault_slow_wp_ns, n);
  kvm.stats.faults[kind] += n;
  if (kind === 'slow_wp') kvm.slowPathFaults(n);
}

/**
 * A write to a write-protected huge SPTE in a dirty-logged slot (`fast_page_fault` refuses to make a huge SPTE
 * writable while the slot is logged, so it is a slow-path fault), `config.splitOnFault`:
 * - `zap-map-4k` (the TDP MMU up to 6.1, the shadow MMU's `drop_large_spte` in every release): zap the huge SPTE
 *   (with a remote flush), link empty tables down to 4K and map only the faulting page; its neighbours refault;
 * - `in-place` (the TDP MMU from 6.2, c4b33d28ea51): `tdp_mmu_split_huge_page` fills the child table from the huge
 *   SPTE (its write-protected permissions, no flush; a 1G page is split to 2M, then the 2M page holding gfn to
 *   4K) and the faulting page is made writable: no not-present refaults.
 */
function splitOnFault(kvm: Kvm, vcpu: Vcpu, gfn: Gfn, level: number, acct: MmuAccount): void {
  const mmu = kvm.mmu;
  const ledger = vcpu.ledger;
  const before = ledger.ns;
  ledger.charge(CostId.fault_not_present_ns);
  kvm.slowPathFaults(1);
  if (kvm.config.tdpMmu && kvm.config.splitOnFault === 'in-place') {
    if (level === PG_LEVEL_1G) tdpMmuSplitHugePage(mmu, PG_LEVEL_1G, gfn, acct);
    tdpMmuSplitHugePage(mmu, PG_LEVEL_2M, gfn, acct);
    mmu.writable.set(gfn);
  } else {
    ledger.charge(CostId.leaf_zap_ns);
    mmu.zapEntry(level, gfn, acct, false);
    kvm.stats.sptesZapped++;
    kvm.stats.hugePagesSplit++;
    kvm.flushRemoteTlbs(acct);
    mmu.ensurePath(gfn, PG_LEVEL_4K, acct);
    mmu.setLeaf(PG_LEVEL_4K, gfn, true, acct);
  }
  kvm.dirtyBitmap.set(gfn);
  kvm.stats.faults.split_on_fault++;
  kvm.stats.vcpuStallNs += ledger.ns - before;
  ledger.charge(CostId.guest_access_4k_ns);
}

/**
 * `disallowed_hugepage_adjust` as `kvm_tdp_mmu_map` (and the shadow MMU's `direct_map`) apply it at each level of
 * the walk when the NX huge-page mitigation is on: before 6.2, a present non-leaf SPTE at the goal level forces the
 * fault one level down, whatever created it (so below the page tables a leaf-only zap left, refaults map 4K). From
 * 6.2 (76901e56fb51) only a child table the NX workaround created does, and the model has no exec faults to create
 * one: no adjustment.
 */
export function disallowedHugepageAdjust(kvm: Kvm, gfn: Gfn, goalLevel: number): number {
  if (!kvm.nxSmall) return goalLevel;
  let level = goalLevel;
  while (level > PG_LEVEL_4K && kvm.mmu.entryKind(level, gfn) === ENTRY_TABLE) level--;
  return level;
}

/**
 * A not-present fault (`kvm_tdp_mmu_map`; the shadow MMU's `direct_map` under the write lock): map gfn at its max
 * level (4K while the slot is logged) less the NX adjustment; a page table already there is replaced by the huge
 * SPTE (torn down, remote flush; the shadow MMU's `mmu_set_spte` → `drop_parent_pte`). Allocates host memory on
 * first touch. A fault in a region zapped by disabling dirty logging is a `refault`; a zapped 4K table stays marked
 * until it is full again, so that each of its 4K refaults counts.
 */
export function notPresentFault(kvm: Kvm, vcpu: Vcpu, gfn: Gfn): void {
  const mmu = kvm.mmu;
  const acct = kvm.vcpuAccount(vcpu);
  const ledger = vcpu.ledger;
  const slot = kvm.slotOf(gfn);
  if (!slot) throw new RangeError(`gfn ${gfn} is not in any memslot`);
  const before = ledger.ns;
  const refault =
    mmu.isCollapsed(PG_LEVEL_1G, gfn) || (mmu.entryKind(PG_LEVEL_1G, gfn) === ENTRY_TABLE && mmu.isCollapsed(PG_LEVEL_2M, gfn));
  const kind: FaultKind = refault ? 'refault' : 'not_present';
  ledger.charge(CostId.fault_not_present_ns);
  kvm.stats.faults[kind]++;
  kvm.slowPathFaults(1);
  hostPopulate(kvm, ledger, gfn);
  const level = disallowedHugepageAdjust(kvm, gfn, slot.dirtyLogging ? PG_LEVEL_4K : kvm.maxMappingLevel(slot, gfn));
  mmu.ensurePath(gfn, level, acct);
  const replaced = mmu.setLeaf(level, gfn, true, acct);
  if (replaced && level > PG_LEVEL_4K) kvm.flushRemoteTlbs(acct);
  if (level > PG_LEVEL_4K) {
    // The entries below the new leaf are gone; clear stale collapse marks.
    if (level === PG_LEVEL_2M) mmu.setCollapsed(PG_LEVEL_2M, gfn, false);
  } else if (refault && mmu.present.chunkCount(Math.floor(gfn / R2)) === R2) {
    mmu.setCollapsed(PG_LEVEL_2M, gfn, false);
  }
  if (slot.dirtyLogging) kvm.dirtyBitmap.set(gfn);
  kvm.stats.vcpuStallNs += ledger.ns - before;
  if (level === PG_LEVEL_4K && !kvm.host.isPopulated(Math.floor(gfn / R2))) {
    if (mmu.entryKind(PG_LEVEL_2M, gfn) === ENTRY_TABLE && mmu.present.chunkCount(Math.floor(gfn / R2)) === R2) {
      kvm.host.markPopulated(Math.floor(gfn / R2));
    }
  }
}

/**
 * Host page allocation on first touch of gfn's region, charged to `ledger`: `n4k` 4K pages, or zeroing the whole huge
 * page that backs gfn (then populated). The bulk pass (`guestAccessSequential`) populates a table's not-present
 * pages with one call.
 */
export function hostPopulate(kvm: Kvm, ledger: CostLedger, gfn: Gfn, n4k: number = 1): void {
  const region = Math.floor(gfn / R2);
  if (kvm.host.isPopulated(region)) return;
  const hostLevel = kvm.host.hostMappingLevel(gfn);
  if (hostLevel === PG_LEVEL_4K) {
    ledger.charge(CostId.host_alloc_4k_ns, n4k);
    return;
  }
  const pages = pagesPerHpage(hostLevel);
  ledger.charge(CostId.host_zero_ns_per_mib, (pages * 4096) / (1 << 20));
  const first = Math.floor(gfn / pages) * (pages / R2);
  for (let r = first; r < first + pages / R2; r++) kvm.host.markPopulated(r);
}
