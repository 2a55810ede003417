import { ChunkKind, CHUNK_WORDS, firstSetBit, maskCount, popcount32, rangeMask } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import { fastPaths } from './fast-paths.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import { chargeWpFault, hostPopulate, kvmGuestAccess, notPresentFault } from './page-fault.js';
import { PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K, ROOT_LEVEL, type Gfn } from './pg-level.js';
import { ENTRY_COLLAPSED, ENTRY_LEAF, ENTRY_TABLE, ENTRY_W, KIND_MASK, R2 } from './tdp-mmu.js';
import type { Vcpu } from './vcpu.js';
import { WRITE_ALL, WRITE_NONE, type WriteDecider } from './write-decider.js';

/** Clears bits [0, upto] of a mask. */
function clearThrough(words: Uint32Array, upto: number): void {
  for (let w = 0; w < CHUNK_WORDS; w++) {
    const lo = w * 32;
    if (upto >= lo + 31) words[w] = 0;
    else if (upto >= lo) words[w] = (words[w]! & ~(((1 << (upto - lo + 1)) - 1) >>> 0)) >>> 0;
  }
}

/** Scratch masks, reused by every call (the model is single-threaded). */
const A = new Uint32Array(CHUNK_WORDS);
const WM = new Uint32Array(CHUNK_WORDS);
const P = new Uint32Array(CHUNK_WORDS);
const W = new Uint32Array(CHUNK_WORDS);
const D = new Uint32Array(CHUNK_WORDS);
const T = new Uint32Array(CHUNK_WORDS);

/**
 * One vCPU's sequential pass over [start, end): every page is touched once in address order, the pages chosen by
 * `writes` are written, the rest read. Exactly what calling `kvmGuestAccess` page by page would do, but whole 2 MiB
 * regions at a time with bit operations, so a pass over a 1 TiB guest costs a few million word operations.
 */
export function guestAccessSequential(kvm: Kvm, vcpu: Vcpu, start: Gfn, end: Gfn, writes: WriteDecider): void {
  let gfn = start;
  const uniform = writes === WRITE_ALL ? 1 : writes === WRITE_NONE ? 0 : -1;
  while (gfn < end) {
    const regionGfn = gfn - (gfn & (R2 - 1));
    const lo = gfn - regionGfn;
    const hi = Math.min(end - regionGfn, R2);
    const slot = kvm.slotOf(regionGfn);
    const oneSlot = slot !== undefined && slot.baseGfn <= regionGfn && slot.endGfn >= regionGfn + R2;
    if (oneSlot && lo === 0 && hi === R2 && uniform >= 0 && fastPaths.enabled && accessFullRegion(kvm, vcpu, slot, regionGfn, uniform === 1)) {
      gfn = regionGfn + R2;
      continue;
    }
    rangeMask(lo, hi, A);
    writes.fill(regionGfn, lo, hi, WM);
    if (oneSlot) accessRegion(kvm, vcpu, regionGfn, A, WM);
    else {
      // The region straddles memslots (which may differ in logging): page by page.
      for (let i = lo; i < hi; i++) kvmGuestAccess(kvm, vcpu, regionGfn + i, (WM[i >>> 5]! & (1 << (i & 31))) !== 0);
    }
    gfn = regionGfn + hi;
  }
}

/**
 * Fast path of a pass that touches all 512 pages of a region and writes all or none of them, for the uniform
 * states a memstress pass meets almost everywhere. Returns false (having changed nothing) when the general path
 * is needed.
 */
function accessFullRegion(kvm: Kvm, vcpu: Vcpu, slot: KvmMemorySlot, regionGfn: Gfn, write: boolean): boolean {
  const mmu = kvm.mmu;
  const ledger = vcpu.ledger;
  const level = regionMappingLevel(kvm, regionGfn);
  if (level > PG_LEVEL_4K) {
    if (write && (mmu.entry(level, regionGfn) & ENTRY_W) === 0) return false;
    ledger.charge(CostId.guest_access_huge_ns, R2);
    return true;
  }
  if (level === 0) {
    // Nothing mapped yet and logging off: the first access maps the region huge (populate).
    const e3 = mmu.l3[regionGfn >>> 18]!;
    if (slot.dirtyLogging || (e3 & ENTRY_COLLAPSED) !== 0 || ((e3 & 3) === ENTRY_TABLE && (mmu.l2[regionGfn >>> 9]! & ENTRY_COLLAPSED) !== 0)) return false;
    if (kvm.maxMappingLevel(slot, regionGfn) < PG_LEVEL_2M) return false;
    notPresentFault(kvm, vcpu, regionGfn);
    ledger.charge(CostId.guest_access_huge_ns, R2);
    return true;
  }
  if (level !== PG_LEVEL_4K) return false;
  const r = regionGfn >>> 9;
  if (mmu.present.chunkKind(r) !== ChunkKind.One || (mmu.l2[r]! & ENTRY_COLLAPSED) !== 0) return false;
  const wKind = mmu.writable.chunkKind(r);
  if (!write || wKind === ChunkKind.One) {
    ledger.charge(CostId.guest_access_4k_ns, R2);
    return true;
  }
  if (wKind !== ChunkKind.Zero) return false;
  // Every page present and write-protected: one tracked write each.
  const logging = slot.dirtyLogging;
  const before = ledger.ns;
  if (logging && kvm.config.pml) {
    ledger.charge(CostId.pml_logged_write_ns, R2);
    kvm.stats.pmlLoggedWrites += R2;
  } else chargeWpFault(kvm, vcpu, R2);
  kvm.stats.vcpuStallNs += ledger.ns - before;
  mmu.writable.setChunkUniform(r, true);
  if (logging) kvm.dirtyBitmap.setChunkUniform(r, true);
  ledger.charge(CostId.guest_access_4k_ns, R2);
  return true;
}

/** Applies accesses `a` (writes `wm` ⊆ a) to the 2 MiB region at regionGfn, in address order. Consumes a and wm. */
function accessRegion(kvm: Kvm, vcpu: Vcpu, regionGfn: Gfn, a: Uint32Array, wm: Uint32Array): void {
  const mmu = kvm.mmu;
  const ledger = vcpu.ledger;
  for (;;) {
    const first = firstSetBit(a);
    if (first < 0) return;
    const level = regionMappingLevel(kvm, regionGfn);
    if (level > PG_LEVEL_4K) {
      const e = mmu.entry(level, regionGfn);
      const firstWrite = firstSetBit(wm);
      if ((e & ENTRY_W) !== 0 || firstWrite < 0) {
        ledger.charge(CostId.guest_access_huge_ns, maskCount(a));
        return;
      }
      // Reads before the first write hit the huge mapping; the write faults; the rest is re-dispatched.
      rangeMask(0, firstWrite, T);
      for (let w = 0; w < CHUNK_WORDS; w++) T[w] = (T[w]! & a[w]!) >>> 0;
      ledger.charge(CostId.guest_access_huge_ns, maskCount(T));
      kvmGuestAccess(kvm, vcpu, regionGfn + firstWrite, true);
      clearThrough(a, firstWrite);
      clearThrough(wm, firstWrite);
      continue;
    }
    if (level === 0 || mmu.isCollapsed(PG_LEVEL_2M, regionGfn) || mmu.isCollapsed(PG_LEVEL_1G, regionGfn)) {
      // No page table for this region yet (or a collapsed one): the first access decides what gets mapped.
      kvmGuestAccess(kvm, vcpu, regionGfn + first, (wm[first >>> 5]! & (1 << (first & 31))) !== 0);
      clearThrough(a, first);
      clearThrough(wm, first);
      continue;
    }
    // A 4K page table. With logging off and a huge-capable region, the first not-present access maps the region
    // huge over the table (unless the NX adjustment forces it below the table): split the pass there.
    const r = regionGfn / R2;
    const slot = kvm.slotOf(regionGfn)!;
    mmu.present.readChunk(r, P);
    if (!slot.dirtyLogging && !kvm.nxSmall && kvm.maxMappingLevel(slot, regionGfn) > PG_LEVEL_4K) {
      for (let w = 0; w < CHUNK_WORDS; w++) T[w] = (a[w]! & ~P[w]!) >>> 0;
      const firstMissing = firstSetBit(T);
      if (firstMissing >= 0) {
        rangeMask(0, firstMissing, T);
        for (let w = 0; w < CHUNK_WORDS; w++) {
          const before = a[w]! & T[w]!;
          D[w] = (wm[w]! & T[w]!) >>> 0;
          T[w] = before >>> 0;
        }
        accessTable(kvm, vcpu, regionGfn, T, D);
        kvmGuestAccess(kvm, vcpu, regionGfn + firstMissing, (wm[firstMissing >>> 5]! & (1 << (firstMissing & 31))) !== 0);
        clearThrough(a, firstMissing);
        clearThrough(wm, firstMissing);
        continue;
      }
    }
    accessTable(kvm, vcpu, regionGfn, a, wm);
    return;
  }
}

/** Level of the leaf (or table, 1) covering the region: 3 or 2 for a huge leaf, 1 for a 4K table, 0 for nothing. */
function regionMappingLevel(kvm: Kvm, regionGfn: Gfn): number {
  const mmu = kvm.mmu;
  if ((mmu.entry(ROOT_LEVEL, regionGfn) & KIND_MASK) !== ENTRY_TABLE) return 0;
  const k3 = mmu.entry(PG_LEVEL_1G, regionGfn) & KIND_MASK;
  if (k3 === ENTRY_LEAF) return PG_LEVEL_1G;
  if (k3 !== ENTRY_TABLE) return 0;
  const k2 = mmu.entry(PG_LEVEL_2M, regionGfn) & KIND_MASK;
  if (k2 === ENTRY_LEAF) return PG_LEVEL_2M;
  return k2 === ENTRY_TABLE ? PG_LEVEL_4K : 0;
}

/**
 * Accesses `a` (writes `wm`) to a region mapped by a 4K page table, where no access maps anything huge: order does
 * not matter, so it is all bit arithmetic. Not-present pages fault and are mapped writable (and dirty when logged);
 * writes to present write-protected pages fault (or are PML-logged) once.
 */
function accessTable(kvm: Kvm, vcpu: Vcpu, regionGfn: Gfn, a: Uint32Array, wm: Uint32Array): void {
  const mmu = kvm.mmu;
  const ledger = vcpu.ledger;
  const r = regionGfn / R2;
  const slot = kvm.slotOf(regionGfn)!;
  const logging = slot.dirtyLogging;
  mmu.present.readChunk(r, P);
  mmu.writable.readChunk(r, W);
  let nAccess = 0;
  let nNotPresent = 0;
  let nWp = 0;
  for (let w = 0; w < CHUNK_WORDS; w++) {
    const aw = a[w]!;
    const np = (aw & ~P[w]!) >>> 0;
    const wp = (wm[w]! & P[w]! & ~W[w]!) >>> 0;
    nAccess += popcount32(aw);
    nNotPresent += popcount32(np);
    nWp += popcount32(wp);
    P[w] = (P[w]! | np) >>> 0;
    W[w] = (W[w]! | np | wp) >>> 0;
    T[w] = (np | wp) >>> 0;
  }
  if (nAccess === 0) return;
  const before = ledger.ns;
  if (nNotPresent > 0) {
    ledger.charge(CostId.fault_not_present_ns, nNotPresent);
    kvm.stats.faults.not_present += nNotPresent;
    kvm.slowPathFaults(nNotPresent);
    hostPopulate(kvm, ledger, regionGfn, nNotPresent);
    mmu.pages[PG_LEVEL_4K]! += nNotPresent;
    mmu.present.writeChunk(r, P);
  }
  if (nWp > 0) {
    if (logging && kvm.config.pml) {
      ledger.charge(CostId.pml_logged_write_ns, nWp);
      kvm.stats.pmlLoggedWrites += nWp;
    } else chargeWpFault(kvm, vcpu, nWp);
  }
  if (nNotPresent > 0 || nWp > 0) {
    mmu.writable.writeChunk(r, W);
    if (logging) {
      kvm.dirtyBitmap.readChunk(r, D);
      for (let w = 0; w < CHUNK_WORDS; w++) D[w] = (D[w]! | T[w]!) >>> 0;
      kvm.dirtyBitmap.writeChunk(r, D);
    }
  }
  kvm.stats.vcpuStallNs += ledger.ns - before;
  ledger.charge(CostId.guest_access_4k_ns, nAccess);
  if (!kvm.host.isPopulated(r) && mmu.present.chunkCount(r) === R2) kvm.host.markPopulated(r);
}
