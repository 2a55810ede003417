import { ChunkedBitmap, ChunkKind, CHUNK_WORDS, copyBitRange, firstSetBit, maskCount, rangeMask } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import { isTdpMmuStrategy, type DisableStrategy } from './disable-strategy.js';
import type { DisableWalkOptions } from './disable-walk.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import { KVM_MEM_LOG_DIRTY_PAGES } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import type { MmuLockMode } from './mmu-lock.js';
import { KVM_MAX_HUGEPAGE_LEVEL, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K, ROOT_LEVEL } from './pg-level.js';
import { hostSplitThp } from './mmu-notifier.js';
import { fastPaths } from './fast-paths.js';
import { kvmTdpMmuRecoverHugePages } from './recover-huge-pages.js';
import { kvmRmapZapCollapsibleSptes } from './rmap-zap-collapsible-sptes.js';
import { kvmTdpMmuTrySplitHugePages } from './split-huge-pages.js';
import { ENTRY_LEAF, ENTRY_TABLE, ENTRY_W, KIND_MASK, R2, tdpMmuSplitHugePage } from './tdp-mmu.js';
import { kvmMmuSlotRemoveWriteAccess } from './slot-remove-write-access.js';
import { kvmTdpMmuClearDirtyPtMasked, kvmTdpMmuWrprotSlot } from './wrprot.js';
import { kvmMmuWriteProtectPtMasked } from './write-protect-pt-masked.js';
import { kvmTdpMmuZapCollapsibleSptes } from './zap-collapsible-sptes.js';

/** Runs fn with mmu_lock held in `mode` by the ioctl thread, recording the hold time. */
function withMmuLock<T>(kvm: Kvm, mode: MmuLockMode, fn: () => T): T {
  kvm.mmuLock.acquire(mode, kvm.ioctl.ns);
  try {
    return fn();
  } finally {
    const held = kvm.mmuLock.release(kvm.ioctl.ns);
    if (mode === 'read') kvm.stats.mmuLockReadNs += held;
    else kvm.stats.mmuLockWriteNs += held;
  }
}

function manualProtectAndInitSet(kvm: Kvm): boolean {
  return kvm.config.manualProtect && kvm.config.initiallySet;
}

/**
 * KVM_SET_USER_MEMORY_REGION setting `KVM_MEM_LOG_DIRTY_PAGES` (`kvm_mmu_slot_apply_flags`): with manual-protect +
 * initially-set, every page is reported dirty and nothing else happens; otherwise, on the TDP MMU, eager split (if
 * enabled) then write-protect (or D-bit clear with PML) under the read lock; on the shadow MMU the same protection
 * through rmaps over every gfn and level under the write lock (`kvmMmuSlotRemoveWriteAccess`; no eager split). Then
 * one remote TLB flush.
 */
export function kvmEnableDirtyLogging(kvm: Kvm, slot: KvmMemorySlot): void {
  if (slot.dirtyLogging) throw new Error(`memslot ${slot.id}: dirty logging already enabled`);
  const acct = kvm.ioctlAccount;
  kvm.ioctl.charge(CostId.memslot_update_ns);
  slot.flags |= KVM_MEM_LOG_DIRTY_PAGES;
  if (manualProtectAndInitSet(kvm)) {
    kvm.dirtyBitmap.setRange(slot.baseGfn, slot.endGfn);
    return;
  }
  kvm.dirtyBitmap.clearRange(slot.baseGfn, slot.endGfn);
  if (!kvm.config.tdpMmu) withMmuLock(kvm, 'write', () => kvmMmuSlotRemoveWriteAccess(kvm, slot, acct));
  else {
    withMmuLock(kvm, 'read', () => {
      if (kvm.config.eagerPageSplit) kvmTdpMmuTrySplitHugePages(kvm, slot.baseGfn, slot.endGfn, acct);
      kvmTdpMmuWrprotSlot(kvm, slot.baseGfn, slot.endGfn, PG_LEVEL_4K, acct);
    });
  }
  kvm.flushRemoteTlbs(acct);
}

const M = new Uint32Array(CHUNK_WORDS);
const D = new Uint32Array(CHUNK_WORDS);
const U = new Uint32Array(CHUNK_WORDS);

/** 64-bit words (pairs of 32-bit mask words) with at least one bit set: KVM processes the bitmap in longs. */
function longsWithBits(m: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < CHUNK_WORDS; w += 2) if ((m[w]! | m[w + 1]!) !== 0) n++;
  return n;
}

/**
 * Re-protects the pages of one region whose dirty bits are in `m` (`kvm_arch_mmu_enable_log_dirty_pt_masked`):
 * with manual-protect + initially-set, first eagerly split the huge page holding them and write-protect any huge
 * leaf still mapping them; then protect the 4K leaves: one table walk on the TDP MMU, one rmap per page on the
 * shadow MMU. `m` has at least one bit set.
 */
function kvmArchMmuEnableLogDirtyPtMasked(kvm: Kvm, regionGfn: number, m: Uint32Array, initSet: boolean): void {
  if (initSet) splitAndProtectHuge(kvm, regionGfn, regionGfn + firstSetBit(m));
  if (kvm.config.tdpMmu) kvmTdpMmuClearDirtyPtMasked(kvm, regionGfn, m, kvm.ioctlAccount);
  else kvmMmuWriteProtectPtMasked(kvm, regionGfn, m, kvm.ioctlAccount);
}

/**
 * The initially-set part of `kvm_arch_mmu_enable_log_dirty_pt_masked` for the region at regionGfn: eager split of
 * the huge page holding it (TDP MMU only), then `kvm_mmu_slot_gfn_write_protect(kvm, slot, start, PG_LEVEL_2M)`: a
 * huge leaf still mapping `firstGfn` (the first page being cleared) is write-protected (on the shadow MMU through
 * the gfn's 2M and 1G rmaps).
 */
function splitAndProtectHuge(kvm: Kvm, regionGfn: number, firstGfn: number): void {
  const mmu = kvm.mmu;
  if (kvm.config.eagerPageSplit) {
    const acct = kvm.ioctlAccount;
    if ((mmu.entry(ROOT_LEVEL, regionGfn) & KIND_MASK) === ENTRY_TABLE && (mmu.entry(PG_LEVEL_1G, regionGfn) & KIND_MASK) === ENTRY_LEAF) {
      tdpMmuSplitHugePage(mmu, PG_LEVEL_1G, regionGfn, acct);
    }
    if ((mmu.entry(PG_LEVEL_1G, regionGfn) & KIND_MASK) === ENTRY_TABLE && (mmu.entry(PG_LEVEL_2M, regionGfn) & KIND_MASK) === ENTRY_LEAF) {
      tdpMmuSplitHugePage(mmu, PG_LEVEL_2M, regionGfn, acct);
    }
  }
  const level = mmu.mappingLevel(firstGfn);
  if (!kvm.config.tdpMmu) {
    kvm.ioctl.charge(CostId.rmap_walk_ns, KVM_MAX_HUGEPAGE_LEVEL - PG_LEVEL_4K);
    if (level >= PG_LEVEL_2M) kvm.ioctl.charge(CostId.rmap_spte_ns);
  }
  if (level >= PG_LEVEL_2M && (mmu.entry(level, regionGfn) & ENTRY_W) !== 0) {
    mmu.setHugeWritable(level, regionGfn, false);
    kvm.ioctl.charge(CostId.spte_wrprot_ns);
  }
}

/**
 * `kvmArchMmuEnableLogDirtyPtMasked` for a region whose 512 dirty bits are all being cleared, when its 4K table (if any) is
 * uniformly present: O(1). Returns false (having changed nothing) when the general path is needed.
 */
function protectRegionFull(kvm: Kvm, regionGfn: number, initSet: boolean): boolean {
  const mmu = kvm.mmu;
  const r = regionGfn >>> 9;
  const tableBefore = (mmu.l3[regionGfn >>> 18]! & 3) === ENTRY_TABLE && (mmu.l2[r]! & 3) === ENTRY_TABLE;
  if (tableBefore && mmu.present.chunkKind(r) === ChunkKind.Mixed) return false;
  kvm.ioctl.charge(CostId.dirty_log_word_ns, CHUNK_WORDS / 2);
  if (initSet) splitAndProtectHuge(kvm, regionGfn, regionGfn);
  const shadow = !kvm.config.tdpMmu;
  if (shadow) kvm.ioctl.charge(CostId.rmap_walk_ns, R2);
  if ((mmu.l3[regionGfn >>> 18]! & 3) === ENTRY_TABLE && (mmu.l2[r]! & 3) === ENTRY_TABLE && mmu.present.chunkKind(r) === ChunkKind.One) {
    if (shadow) kvm.ioctl.charge(CostId.rmap_spte_ns, R2);
    kvm.ioctl.charge(CostId.spte_wrprot_ns, R2);
    mmu.writable.setChunkUniform(r, false);
  }
  return true;
}

/**
 * KVM_GET_DIRTY_LOG for one memslot: returns a copy of its dirty bitmap (bit i = gfn baseGfn + i). Without manual
 * protect it also clears the bitmap and write-protects the reported pages (under mmu_lock for write), flushing
 * if anything was reported.
 */
export function kvmGetDirtyLog(kvm: Kvm, slot: KvmMemorySlot): ChunkedBitmap {
  if (!slot.dirtyLogging) throw new Error(`memslot ${slot.id}: KVM_GET_DIRTY_LOG without dirty logging (ENOENT)`);
  kvm.ioctl.charge(CostId.ioctl_ns);
  kvm.ioctl.charge(CostId.dirty_bitmap_copy_ns_per_kib, Math.ceil(slot.npages / 8) / 1024);
  const copy = copyBitRange(kvm.dirtyBitmap, slot.baseGfn, slot.npages);
  if (kvm.config.manualProtect) return copy;
  const reported = withMmuLock(kvm, 'write', () => harvestRange(kvm, slot.baseGfn, slot.endGfn, undefined, false));
  if (reported > 0) kvm.flushRemoteTlbs(kvm.ioctlAccount);
  return copy;
}

/**
 * KVM_CLEAR_DIRTY_LOG (manual protect): for pages in [firstPage, firstPage + numPages) of the slot whose bit is set
 * both in the dirty bitmap and in `mask` (all pages when omitted; bit i = page firstPage + i), clear the bit and
 * re-protect the page; with initially-set, eagerly split first. One flush at the end if anything was cleared.
 * `firstPage` must be a multiple of 64 and `numPages` too unless the range reaches the end of the slot (EINVAL).
 * Returns the number of bits cleared.
 */
export function kvmClearDirtyLog(
  kvm: Kvm,
  slot: KvmMemorySlot,
  firstPage: number,
  numPages: number,
  mask?: ChunkedBitmap,
): number {
  if (!kvm.config.manualProtect) throw new Error('KVM_CLEAR_DIRTY_LOG needs KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (EINVAL)');
  if (!slot.dirtyLogging) throw new Error(`memslot ${slot.id}: KVM_CLEAR_DIRTY_LOG without dirty logging (ENOENT)`);
  if (firstPage % 64 !== 0 || firstPage < 0) throw new RangeError('first_page must be a multiple of 64 (EINVAL)');
  if (numPages < 0 || firstPage + numPages > slot.npages) throw new RangeError('range outside the memslot (EINVAL)');
  if (numPages % 64 !== 0 && firstPage + numPages !== slot.npages) {
    throw new RangeError('num_pages must be a multiple of 64 unless the range ends the memslot (EINVAL)');
  }
  if (mask && mask.nbits < numPages) throw new RangeError('mask smaller than num_pages');
  kvm.ioctl.charge(CostId.ioctl_ns);
  const start = slot.baseGfn + firstPage;
  const cleared = withMmuLock(kvm, 'write', () =>
    harvestRange(kvm, start, start + numPages, mask ? { mask, origin: start } : undefined, true),
  );
  if (cleared > 0) kvm.flushRemoteTlbs(kvm.ioctlAccount);
  return cleared;
}

/** Clears dirty bits in [start, end) (∩ mask) and re-protects those pages; returns how many bits it cleared. */
function harvestRange(
  kvm: Kvm,
  start: number,
  end: number,
  mask: { mask: ChunkedBitmap; origin: number } | undefined,
  clearPath: boolean,
): number {
  const initSet = clearPath && manualProtectAndInitSet(kvm);
  const bitmap = kvm.dirtyBitmap;
  let cleared = 0;
  for (let r = Math.floor(start / R2); r * R2 < end; r++) {
    const regionGfn = r * R2;
    const kind = bitmap.chunkKind(r);
    if (kind === ChunkKind.Zero) continue;
    if (kind === ChunkKind.One && !mask && fastPaths.enabled && regionGfn >= start && regionGfn + R2 <= end && protectRegionFull(kvm, regionGfn, initSet)) {
      cleared += R2;
      bitmap.setChunkUniform(r, false);
      continue;
    }
    bitmap.readChunk(r, D);
    // M = dirty bits of this region inside [start, end) and the user's mask.
    rangeMask(start - regionGfn, end - regionGfn, M);
    for (let w = 0; w < CHUNK_WORDS; w++) M[w] = (D[w]! & M[w]!) >>> 0;
    if (mask) {
      maskWords(mask.mask, regionGfn - mask.origin, U);
      for (let w = 0; w < CHUNK_WORDS; w++) M[w] = (M[w]! & U[w]!) >>> 0;
    }
    const longs = longsWithBits(M);
    if (longs === 0) continue;
    cleared += maskCount(M);
    kvm.ioctl.charge(CostId.dirty_log_word_ns, longs);
    kvmArchMmuEnableLogDirtyPtMasked(kvm, regionGfn, M, initSet);
    for (let w = 0; w < CHUNK_WORDS; w++) D[w] = (D[w]! & ~M[w]!) >>> 0;
    bitmap.writeChunk(r, D);
  }
  return cleared;
}

/** Bits [offset, offset + 512) of `mask` as 16 words (bits outside the mask read as 0). */
function maskWords(mask: ChunkedBitmap, offset: number, out: Uint32Array): void {
  if (offset >= 0 && offset % R2 === 0 && offset + R2 <= mask.nchunks * R2) {
    mask.readChunk(offset / R2, out);
    return;
  }
  out.fill(0);
  for (let i = 0; i < R2; i++) {
    const b = offset + i;
    if (b >= 0 && b < mask.nbits && mask.get(b)) out[i >>> 5] = (out[i >>> 5]! | (1 << (i & 31))) >>> 0;
  }
}

export interface DisableOptions extends DisableWalkOptions {
  readonly strategy: DisableStrategy;
}

/**
 * KVM_SET_USER_MEMORY_REGION clearing `KVM_MEM_LOG_DIRTY_PAGES`: the memslot is updated (logging stops, the bitmap
 * is freed), then huge pages are brought back with the chosen strategy.
 */
export function kvmDisableDirtyLogging(kvm: Kvm, slot: KvmMemorySlot, options: DisableOptions): void {
  if (!slot.dirtyLogging) throw new Error(`memslot ${slot.id}: dirty logging is not enabled`);
  kvm.ioctl.charge(CostId.memslot_update_ns);
  slot.flags &= ~KVM_MEM_LOG_DIRTY_PAGES;
  kvm.dirtyBitmap.clearRange(slot.baseGfn, slot.endGfn);
  if (kvm.config.pml) {
    // With PML the 4K leaves were only D-cleared: once logging is off the CPU sets D without an exit.
    const mmu = kvm.mmu;
    for (let r = Math.floor(slot.baseGfn / R2); r * R2 < slot.endGfn; r++) {
      const lo = Math.max(slot.baseGfn, r * R2);
      const hi = Math.min(slot.endGfn, r * R2 + R2);
      if (lo === r * R2 && hi === r * R2 + R2) {
        const k = mmu.present.chunkKind(r);
        if (k === ChunkKind.One) mmu.writable.setChunkUniform(r, true);
        else if (k === ChunkKind.Mixed) mmu.writable.writeChunk(r, mmu.present.readChunk(r, U));
      } else {
        for (let g = lo; g < hi; g++) if (mmu.present.get(g)) mmu.writable.set(g);
      }
    }
  }
  // THPs the host split while the slot was logged (likelihood `pfn_not_mappable`): the same regions whatever the
  // strategy, since the draw is seeded per region. The notifier's work is the host's, not the ioctl's.
  if (kvm.bailouts.pfn_not_mappable > 0 && kvm.config.backing === 'anonymous_thp') {
    const hostAcct = { ledger: kvm.hostLedger, stats: kvm.stats };
    for (let r = Math.ceil(slot.baseGfn / R2); (r + 1) * R2 <= slot.endGfn; r++) {
      const gfn = r * R2;
      if (kvm.host.hostMappingLevel(gfn) >= PG_LEVEL_2M && kvm.bailsOut('pfn_not_mappable', gfn, PG_LEVEL_2M)) {
        hostSplitThp(kvm, gfn, hostAcct);
      }
    }
  }
  const running = options.activity?.running ?? kvm.nrRunningVcpus;
  const strategy = options.strategy;
  if (isTdpMmuStrategy(strategy) !== kvm.config.tdpMmu) {
    throw new Error(`'${strategy}' is a disable of the ${kvm.config.tdpMmu ? 'shadow' : 'TDP'} MMU; this VM runs the ${kvm.config.tdpMmu ? 'TDP' : 'shadow'} MMU`);
  }
  if (strategy === 'rmap-zap') {
    withMmuLock(kvm, 'write', () => kvmRmapZapCollapsibleSptes(kvm, slot, running, options));
    return;
  }
  // The leaf zap of 5.10 - 5.12 held mmu_lock for write; every other TDP MMU walk takes it for read.
  const mode = strategy === 'zap-leaf' && kvm.config.zapLeafFlush === 'batched' ? 'write' : 'read';
  withMmuLock(kvm, mode, () => {
    if (strategy === 'promote') kvmTdpMmuRecoverHugePages(kvm, slot, running, options);
    else kvmTdpMmuZapCollapsibleSptes(kvm, slot, strategy, running, options);
  });
}
