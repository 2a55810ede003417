import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKING_SOURCES, type BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { CostId } from '../../../../shared/src/kernel/mmu/cost-profile.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { guestAccessSequential } from '../../../../shared/src/kernel/mmu/guest-access-sequential.js';
import { nxForcesSmall, type MmuBehaviours } from '../../../../shared/src/kernel/mmu/mmu-behaviours.js';
import { kvmGuestAccess } from '../../../../shared/src/kernel/mmu/page-fault.js';
import { PG_LEVEL_4K } from '../../../../shared/src/kernel/mmu/pg-level.js';
import { WRITE_ALL } from '../../../../shared/src/kernel/mmu/write-decider.js';
import { Driver, opArb, runs, shapeOf } from '../../../helpers/mmu-driver.js';
import { BASE_GFN, checkConsistency, dumpState, makeKvm, mappingLevels, totalPages, type VmShape } from '../../../helpers/mmu-fixtures.js';

/**
 * The shadow MMU (`kvm.tdp_mmu=0`) serving an EPT/NPT guest, any release: no eager split, `fast_page_fault` for 4K
 * write-protection faults, lazy split by `drop_large_spte` + map 4K, the rmap zap at 4K only (up to 5.19) or 4K and
 * 2M (6.0+), the NX adjustment below any non-leaf SPTE (before 6.2) or not.
 */
const shadowBehavioursArb: fc.Arbitrary<Partial<MmuBehaviours>> = fc.record({
  tdpMmu: fc.constant(false),
  fastPageFault: fc.constant(true),
  splitOnFault: fc.constant('zap-map-4k' as const),
  nxHugePages: fc.boolean(),
  nxAdjust: fc.constantFrom('any-nonleaf' as const, 'nx-child-only' as const),
  rmapZapMaxLevel: fc.constantFrom(1 as const, 2 as const),
});

const shadowShapeArb: fc.Arbitrary<VmShape> = fc
  .constantFrom(...BACKING_SOURCES)
  .chain((backing: BackingSource) => shapeOf(backing, shadowBehavioursArb, fc.constant(false)))
  .map((shape) => ({ ...shape, fastPageFault: true }));

describe('shadow MMU model invariants (property-based)', () => {
  it('keeps a consistent tree, legal huge pages and every logged write (rmap zaps, re-enables, GET/CLEAR, faults)', () => {
    fc.assert(
      fc.property(shadowShapeArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), (shape, ops) => {
        const d = new Driver(makeKvm(shape));
        for (const op of ops) {
          d.apply(op);
          d.check();
        }
        // No eager split on the shadow MMU: every split is a fault's (drop_large_spte), never the ioctl thread's.
        expect(d.kvm.ioctl.counts[CostId.split_child_spte_ns]).toBe(0);
      }),
      { numRuns: runs(80) },
    );
  });

  it('bulk sequential passes do exactly what page-by-page accesses do, mmu_lock holds included', () => {
    fc.assert(
      fc.property(shadowShapeArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), (shape, ops) => {
        const bulk = new Driver(makeKvm(shape));
        const single = new Driver(makeKvm(shape), true);
        for (const op of ops) {
          bulk.apply(op);
          single.apply(op);
        }
        const a = dumpState(bulk.kvm);
        const b = dumpState(single.kvm);
        for (const x of [a, b]) {
          const st = x.stats as Record<string, unknown>;
          delete st.vcpuStallNs;
          delete st.mmuLockReadNs;
          delete st.mmuLockWriteNs;
        }
        expect(a).toEqual(b);
      }),
      { numRuns: runs(60) },
    );
  });

  it('every slow-path fault holds mmu_lock for write; fast_page_fault and PML never take it', () => {
    fc.assert(
      fc.property(shadowShapeArb, fc.array(opArb, { minLength: 1, maxLength: 30 }), (shape, ops) => {
        const d = new Driver(makeKvm(shape));
        for (const op of ops) d.apply(op);
        const kvm = d.kvm;
        const slow = kvm.stats.faults.not_present + kvm.stats.faults.split_on_fault + kvm.stats.faults.refault + kvm.stats.faults.slow_wp;
        expect(kvm.faultLock.counts[CostId.shadow_fault_locked_ns]).toBe(slow);
        expect(kvm.faultLock.ns).toBeCloseTo(slow * kvm.profile.costs.shadow_fault_locked_ns, 3);
      }),
      { numRuns: runs(60) },
    );
  });

  it('rmap zap keeps the page tables and flushes only before yields and at the end; refaults restore each mapping, or a smaller one under NX before 6.2', () => {
    fc.assert(
      fc.property(
        shadowShapeArb,
        fc.array(opArb.filter((o) => o.kind !== 'invalidate' && o.kind !== 'disable'), { maxLength: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (shape, ops, populated) => {
          const kvm = makeKvm(shape);
          const d = new Driver(kvm);
          const n = totalPages(kvm);
          guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + Math.max(1, Math.floor(populated * n)), WRITE_ALL);
          const before = mappingLevels(kvm);
          for (const slot of kvm.memslots) kvmEnableDirtyLogging(kvm, slot);
          for (const op of ops) if (op.kind !== 'enable') d.apply(op);
          const sp = kvm.mmu.spTotal;
          const stats = kvm.stats.clone();
          for (const slot of kvm.memslots) kvmDisableDirtyLogging(kvm, slot, { strategy: 'rmap-zap' });
          const disable = kvm.stats.since(stats);
          expect(kvm.mmu.spTotal, 'page tables stay present').toBe(sp);
          expect(disable.spFreed).toBe(0);
          expect(disable.tlbFlushes).toBeLessThanOrEqual(disable.yields + kvm.memslots.length);
          expect(checkConsistency(kvm)).toEqual([]);
          for (let i = 0; i < n; i++) if (before[i]) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + i, false);
          const after = mappingLevels(kvm);
          const forced = nxForcesSmall(kvm.config);
          for (let i = 0; i < n; i++) {
            if (!before[i]) continue;
            // Forced below the tables left present: 4K under a zapped table, 2M beside it under a 1G table.
            if (forced) expect(after[i]! >= PG_LEVEL_4K && after[i]! <= before[i]!, `level ${after[i]} of gfn ${BASE_GFN + i} (NX), ${before[i]} before`).toBe(true);
            else expect(after[i], `level of gfn ${BASE_GFN + i}`).toBe(before[i]);
          }
          expect(checkConsistency(kvm)).toEqual([]);
        },
      ),
      { numRuns: runs(30) },
    );
  });

  it('with CLEAR of everything and one write pass, a write-protected huge page is split by its first write and its other pages fault in one by one', () => {
    const kvm = makeKvm({ backing: 'anonymous_hugetlb_2mb', slotPages: [4 * 512], nrVcpus: 1, manualProtect: true, eagerPageSplit: false, pml: true, fastPageFault: true, thpCoverage: 1, seed: 1, behaviours: { tdpMmu: false } });
    guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + 4 * 512, WRITE_ALL);
    const slot = kvm.memslots[0]!;
    kvmEnableDirtyLogging(kvm, slot);
    kvmClearDirtyLog(kvm, slot, 0, slot.npages);
    const before = kvm.stats.clone();
    guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + 4 * 512, WRITE_ALL);
    const d = kvm.stats.since(before);
    expect(d.faults.split_on_fault).toBe(4);
    expect(d.faults.not_present).toBe(4 * 511);
    expect(d.tlbFlushes).toBe(4); // drop_large_spte flushes
  });
});
