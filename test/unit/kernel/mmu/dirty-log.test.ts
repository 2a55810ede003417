import { describe, expect, it } from 'vitest';
import { ChunkedBitmap } from '../../../../shared/src/common/chunked-bitmap.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging, kvmGetDirtyLog } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import type { Kvm } from '../../../../shared/src/kernel/mmu/kvm.js';
import { kvmGuestAccess } from '../../../../shared/src/kernel/mmu/page-fault.js';
import { BASE_GFN, makeKvm } from '../../../helpers/mmu-fixtures.js';

const PAGES = 4096;

function populated(opts: { manualProtect: boolean; pml: boolean; backing?: 'anonymous' | 'anonymous_hugetlb_2mb'; eager?: boolean }): Kvm {
  const kvm = makeKvm({
    backing: opts.backing ?? 'anonymous',
    slotPages: [PAGES],
    nrVcpus: 1,
    manualProtect: opts.manualProtect,
    eagerPageSplit: opts.eager ?? true,
    pml: opts.pml,
    fastPageFault: true,
    thpCoverage: 1,
    seed: 7,
  });
  for (let g = 0; g < PAGES; g++) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + g, true);
  return kvm;
}

/** Writes that KVM had to track (a fault or a PML entry), so far. */
function tracked(kvm: Kvm): number {
  const f = kvm.stats.faults;
  return f.fast + f.slow_wp + f.not_present + f.split_on_fault + kvm.stats.pmlLoggedWrites;
}

function setBits(b: ChunkedBitmap): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.nbits; i++) if (b.get(i)) out.push(i);
  return out;
}

describe('KVM_GET_DIRTY_LOG / KVM_CLEAR_DIRTY_LOG', () => {
  for (const pml of [false, true]) {
    describe(`manual protect + initially set (pml ${pml ? 'on' : 'off'})`, () => {
      it('reports every page at first, and GET alone changes nothing', () => {
        const kvm = populated({ manualProtect: true, pml });
        const slot = kvm.memslots[0]!;
        kvmEnableDirtyLogging(kvm, slot);
        const first = kvmGetDirtyLog(kvm, slot);
        expect(first.count()).toBe(PAGES);
        const faults = tracked(kvm);
        const second = kvmGetDirtyLog(kvm, slot);
        expect(second.count()).toBe(PAGES);
        // Nothing was re-protected: writes are still free.
        for (let g = 0; g < PAGES; g++) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + g, true);
        expect(tracked(kvm)).toBe(faults);
      });

      it('CLEAR clears exactly the masked bits in range, and exactly those pages track their next write', () => {
        const kvm = populated({ manualProtect: true, pml });
        const slot = kvm.memslots[0]!;
        kvmEnableDirtyLogging(kvm, slot);
        const first = 1024;
        const num = 1024;
        const mask = new ChunkedBitmap(num);
        for (let i = 0; i < num; i += 3) mask.set(i);
        const cleared = kvmClearDirtyLog(kvm, slot, first, num, mask);
        expect(cleared).toBe(mask.count());
        const after = kvmGetDirtyLog(kvm, slot);
        for (let p = 0; p < PAGES; p++) {
          const wasCleared = p >= first && p < first + num && mask.get(p - first);
          expect(after.get(p)).toBe(!wasCleared);
        }
        // Clearing an already-clear bit does nothing.
        expect(kvmClearDirtyLog(kvm, slot, first, num, mask)).toBe(0);
        const before = tracked(kvm);
        for (let g = 0; g < PAGES; g++) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + g, true);
        expect(tracked(kvm) - before).toBe(mask.count());
        expect(kvmGetDirtyLog(kvm, slot).count()).toBe(PAGES);
        // A second write to the same pages is not tracked again until the next CLEAR.
        const again = tracked(kvm);
        for (let g = 0; g < PAGES; g++) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + g, true);
        expect(tracked(kvm)).toBe(again);
      });

      it('reads never set a bit of a present page; CLEAR then write sets it again', () => {
        const kvm = populated({ manualProtect: true, pml });
        const slot = kvm.memslots[0]!;
        kvmEnableDirtyLogging(kvm, slot);
        kvmClearDirtyLog(kvm, slot, 0, PAGES);
        for (let g = 0; g < PAGES; g++) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + g, false);
        expect(kvmGetDirtyLog(kvm, slot).count()).toBe(0);
        kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + 77, true);
        expect(setBits(kvmGetDirtyLog(kvm, slot))).toEqual([77]);
      });
    });
  }

  it('rejects a CLEAR whose first_page or num_pages is not a multiple of 64 (EINVAL)', () => {
    const kvm = populated({ manualProtect: true, pml: true });
    const slot = kvm.memslots[0]!;
    kvmEnableDirtyLogging(kvm, slot);
    expect(() => kvmClearDirtyLog(kvm, slot, 32, 64)).toThrow(/multiple of 64/);
    expect(() => kvmClearDirtyLog(kvm, slot, 0, 100)).toThrow(/multiple of 64/);
    expect(() => kvmClearDirtyLog(kvm, slot, 0, PAGES + 64)).toThrow(/outside/);
    // Up to the end of the slot any length is fine.
    expect(() => kvmClearDirtyLog(kvm, slot, PAGES - 64, 64)).not.toThrow();
  });

  it('with initially-set and eager split, CLEAR splits only the huge pages holding cleared bits', () => {
    const kvm = populated({ manualProtect: true, pml: true, backing: 'anonymous_hugetlb_2mb' });
    const slot = kvm.memslots[0]!;
    kvmEnableDirtyLogging(kvm, slot);
    expect(kvm.mmu.pages[2]).toBe(PAGES / 512);
    kvmClearDirtyLog(kvm, slot, 512, 64);
    expect(kvm.mmu.pages[2]).toBe(PAGES / 512 - 1);
    expect(kvm.mmu.mappingLevel(BASE_GFN + 512)).toBe(1);
    expect(kvm.mmu.mappingLevel(BASE_GFN)).toBe(2);
  });

  it('without eager split, the first write to a protected huge page splits it lazily, mapping only that page', () => {
    const kvm = populated({ manualProtect: true, pml: true, backing: 'anonymous_hugetlb_2mb', eager: false });
    const slot = kvm.memslots[0]!;
    kvmEnableDirtyLogging(kvm, slot);
    kvmClearDirtyLog(kvm, slot, 0, PAGES);
    expect(kvm.mmu.pages[2]).toBe(PAGES / 512);
    kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + 5, true);
    expect(kvm.stats.faults.split_on_fault).toBe(1);
    expect(kvm.mmu.mappingLevel(BASE_GFN + 5)).toBe(1);
    expect(kvm.mmu.mappingLevel(BASE_GFN + 6)).toBe(0);
    kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + 6, false);
    expect(kvm.stats.faults.not_present).toBe(PAGES / 512 + 1);
    // make_spte maps even a read fault writable and marks it dirty while the slot is logged.
    expect(setBits(kvmGetDirtyLog(kvm, slot))).toEqual([5, 6]);
  });

  it('classic mode (no manual protect): GET reports, clears and re-protects', () => {
    const kvm = populated({ manualProtect: false, pml: false });
    const slot = kvm.memslots[0]!;
    kvmEnableDirtyLogging(kvm, slot);
    expect(kvmGetDirtyLog(kvm, slot).count()).toBe(0);
    const written = [3, 64, 65, 4000];
    for (const p of written) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + p, true);
    expect(kvm.stats.faults.fast).toBe(written.length);
    expect(setBits(kvmGetDirtyLog(kvm, slot))).toEqual(written);
    expect(kvmGetDirtyLog(kvm, slot).count()).toBe(0);
    for (const p of written) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + p, true);
    expect(kvm.stats.faults.fast).toBe(2 * written.length);
    expect(() => kvmClearDirtyLog(kvm, slot, 0, 64)).toThrow(/MANUAL_PROTECT/);
  });

  it('disabling logging stops tracking and frees the bitmap', () => {
    const kvm = populated({ manualProtect: true, pml: true });
    const slot = kvm.memslots[0]!;
    kvmEnableDirtyLogging(kvm, slot);
    kvmClearDirtyLog(kvm, slot, 0, PAGES);
    kvmDisableDirtyLogging(kvm, slot, { strategy: 'promote' });
    expect(kvm.dirtyBitmap.countRange(slot.baseGfn, slot.endGfn)).toBe(0);
    const before = tracked(kvm);
    for (let g = 0; g < PAGES; g++) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + g, true);
    // With PML the 4K leaves were only D-cleared: once logging is off, writes no longer exit.
    expect(tracked(kvm)).toBe(before);
    expect(() => kvmGetDirtyLog(kvm, slot)).toThrow(/ENOENT/);
  });
});
