import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedBitmap } from '../../../../shared/src/common/chunked-bitmap.js';
import { BACKING_SOURCES, type BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging, kvmGetDirtyLog } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import { guestAccessSequential } from '../../../../shared/src/kernel/mmu/guest-access-sequential.js';
import type { Kvm } from '../../../../shared/src/kernel/mmu/kvm.js';
import { kvmMmuNotifierInvalidateRange } from '../../../../shared/src/kernel/mmu/mmu-notifier.js';
import { kvmGuestAccess } from '../../../../shared/src/kernel/mmu/page-fault.js';
import { pagesPerHpage } from '../../../../shared/src/kernel/mmu/pg-level.js';
import type { WriteDecider } from '../../../../shared/src/kernel/mmu/write-decider.js';
import { hash32 } from '../../../../shared/src/engine/rng.js';
import { BASE_GFN, checkConsistency, dumpState, makeKvm, mappingLevels, totalPages, type VmShape } from '../../../helpers/mmu-fixtures.js';

/** Slot sizes (in 4K pages) that fit a backing: whole huge pages, sometimes an odd tail to exercise slot alignment. */
function slotPagesArb(backing: BackingSource): fc.Arbitrary<number[]> {
  const unit = backing === 'anonymous_hugetlb_1gb' ? 262144 : 512;
  const maxUnits = backing === 'anonymous_hugetlb_1gb' ? 2 : 6;
  const size = fc.oneof(
    fc.integer({ min: 1, max: maxUnits }).map((k) => k * unit),
    backing === 'anonymous' || backing === 'anonymous_thp' ? fc.integer({ min: 1, max: 2600 }) : fc.constant(unit),
  );
  return fc.array(size, { minLength: 1, maxLength: backing === 'anonymous_hugetlb_1gb' ? 2 : 3 });
}

const shapeArb: fc.Arbitrary<VmShape> = fc.constantFrom(...BACKING_SOURCES).chain((backing) =>
  fc.record({
    backing: fc.constant(backing),
    slotPages: slotPagesArb(backing),
    nrVcpus: fc.integer({ min: 1, max: 4 }),
    manualProtect: fc.boolean(),
    eagerPageSplit: fc.boolean(),
    pml: fc.boolean(),
    fastPageFault: fc.boolean(),
    thpCoverage: fc.constantFrom(0, 0.5, 1),
    seed: fc.integer({ min: 0, max: 1000 }),
  }),
);

type Op =
  | { kind: 'access'; at: number; write: boolean; vcpu: number }
  | { kind: 'pass'; at: number; len: number; writes: 'all' | 'none' | 'some'; salt: number; vcpu: number }
  | { kind: 'enable'; slot: number }
  | { kind: 'get'; slot: number }
  | { kind: 'clear'; slot: number; first: number; num: number; salt: number; masked: boolean }
  | { kind: 'invalidate'; at: number; len: number }
  | { kind: 'disable'; slot: number; strategy: DisableStrategy };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('access' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), write: fc.boolean(), vcpu: fc.nat(3) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('pass' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      len: fc.integer({ min: 1, max: 4000 }),
      writes: fc.constantFrom('all' as const, 'none' as const, 'some' as const),
      salt: fc.nat(),
      vcpu: fc.nat(3),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('enable' as const), slot: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), slot: fc.nat(2) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('clear' as const),
      slot: fc.nat(2),
      first: fc.double({ min: 0, max: 1, noNaN: true }),
      num: fc.double({ min: 0, max: 1, noNaN: true }),
      salt: fc.nat(),
      masked: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 1200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disable' as const), slot: fc.nat(2), strategy: fc.constantFrom(...DISABLE_STRATEGIES) }) },
);

/** Pages written by a 'some' pass: a pure function of (salt, gfn), so two VMs can be driven identically. */
function someWrites(salt: number, gfn: number): boolean {
  return (hash32(salt, gfn) & 3) === 0;
}

function deciderFor(op: Extract<Op, { kind: 'pass' }>): WriteDecider {
  return {
    fill(regionGfn, lo, hi, out) {
      out.fill(0);
      for (let i = lo; i < hi; i++) {
        const write = op.writes === 'all' || (op.writes === 'some' && someWrites(op.salt, regionGfn + i));
        if (write) out[i >>> 5] = (out[i >>> 5]! | (1 << (i & 31))) >>> 0;
      }
    },
  };
}

function isWrite(op: Extract<Op, { kind: 'pass' }>, gfn: number): boolean {
  return op.writes === 'all' || (op.writes === 'some' && someWrites(op.salt, gfn));
}

/**
 * Drives a VM through `ops`, keeping the set of pages written while their slot was logged and not harvested since
 * (they must all be reported). Checks the invariants after every operation.
 */
class Driver {
  readonly mustReport = new Set<number>();
  constructor(
    readonly kvm: Kvm,
    readonly perPage: boolean = false,
  ) {}

  get n(): number {
    return totalPages(this.kvm);
  }

  private noteWrite(gfn: number): void {
    if (this.kvm.slotOf(gfn)?.dirtyLogging) this.mustReport.add(gfn);
  }

  apply(op: Op): void {
    const kvm = this.kvm;
    const vcpu = kvm.vcpus[op.kind === 'access' || op.kind === 'pass' ? op.vcpu % kvm.vcpus.length : 0]!;
    switch (op.kind) {
      case 'access': {
        const gfn = BASE_GFN + Math.min(this.n - 1, Math.floor(op.at * this.n));
        kvmGuestAccess(kvm, vcpu, gfn, op.write);
        if (op.write) this.noteWrite(gfn);
        break;
      }
      case 'pass': {
        const start = BASE_GFN + Math.min(this.n - 1, Math.floor(op.at * this.n));
        const end = Math.min(BASE_GFN + this.n, start + op.len);
        if (this.perPage) for (let g = start; g < end; g++) kvmGuestAccess(kvm, vcpu, g, isWrite(op, g));
        else guestAccessSequential(kvm, vcpu, start, end, deciderFor(op));
        for (let g = start; g < end; g++) if (isWrite(op, g)) this.noteWrite(g);
        break;
      }
      case 'enable': {
        const slot = kvm.memslots[op.slot % kvm.memslots.length]!;
        if (!slot.dirtyLogging) kvmEnableDirtyLogging(kvm, slot);
        break;
      }
      case 'get': {
        const slot = kvm.memslots[op.slot % kvm.memslots.length]!;
        if (!slot.dirtyLogging) break;
        const bitmap = kvmGetDirtyLog(kvm, slot);
        for (const gfn of this.mustReport) {
          if (slot.contains(gfn)) expect(bitmap.get(gfn - slot.baseGfn), `written gfn ${gfn} reported by GET`).toBe(true);
        }
        if (!kvm.config.manualProtect) for (const gfn of [...this.mustReport]) if (slot.contains(gfn)) this.mustReport.delete(gfn);
        break;
      }
      case 'clear': {
        const slot = kvm.memslots[op.slot % kvm.memslots.length]!;
        if (!slot.dirtyLogging || !kvm.config.manualProtect) break;
        const first = Math.floor((op.first * slot.npages) / 64) * 64;
        let num = Math.floor(op.num * (slot.npages - first));
        if (first + num !== slot.npages) num -= num % 64;
        const mask = op.masked ? new ChunkedBitmap(Math.max(num, 1)) : undefined;
        if (mask) for (let i = 0; i < num; i++) if (hash32(op.salt, i) & 1) mask.set(i);
        kvmClearDirtyLog(kvm, slot, first, num, mask);
        for (const gfn of [...this.mustReport]) {
          const off = gfn - slot.baseGfn;
          if (off >= first && off < first + num && (!mask || mask.get(off - first))) this.mustReport.delete(gfn);
        }
        break;
      }
      case 'disable': {
        const slot = kvm.memslots[op.slot % kvm.memslots.length]!;
        if (!slot.dirtyLogging) break;
        kvmDisableDirtyLogging(kvm, slot, { strategy: op.strategy });
        for (const gfn of [...this.mustReport]) if (slot.contains(gfn)) this.mustReport.delete(gfn);
        break;
      }
      case 'invalidate': {
        const start = BASE_GFN + Math.min(this.n - 1, Math.floor(op.at * this.n));
        kvmMmuNotifierInvalidateRange(kvm, start, Math.min(BASE_GFN + this.n, start + op.len), { ledger: kvm.hostLedger, stats: kvm.stats });
        break;
      }
    }
  }

  check(): void {
    const kvm = this.kvm;
    expect(checkConsistency(kvm)).toEqual([]);
    // A huge SPTE only where the backing and the memslot allow it.
    for (const slot of kvm.memslots) {
      for (let gfn = slot.baseGfn; gfn < slot.endGfn; gfn += 512) {
        const level = kvm.mmu.mappingLevel(gfn);
        if (level > 1) expect(level, `huge mapping at gfn ${gfn}`).toBeLessThanOrEqual(kvm.maxMappingLevel(slot, gfn));
      }
    }
    // Every page written while logged and not harvested is still marked dirty.
    for (const gfn of this.mustReport) expect(kvm.dirtyBitmap.get(gfn), `dirty bit of written gfn ${gfn}`).toBe(true);
  }
}

/** Runs per property; MIGSIM_PROP_SCALE=10 searches harder (slow). */
const scale = Number(process.env.MIGSIM_PROP_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * scale));

describe('TDP MMU model invariants (property-based)', () => {
  it('keeps a consistent tree, legal huge pages and every logged write (across disables with any strategy and re-enables)', () => {
    fc.assert(
      fc.property(shapeArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), (shape, ops) => {
        const d = new Driver(makeKvm(shape));
        for (const op of ops) {
          d.apply(op);
          d.check();
        }
      }),
      { numRuns: runs(80) },
    );
  });

  it('bulk sequential passes do exactly what page-by-page accesses do (state, counters and charged costs)', () => {
    fc.assert(
      fc.property(shapeArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), (shape, ops) => {
        const bulk = new Driver(makeKvm(shape));
        const single = new Driver(makeKvm(shape), true);
        for (const op of ops) {
          bulk.apply(op);
          single.apply(op);
        }
        const a = dumpState(bulk.kvm);
        const b = dumpState(single.kvm);
        const stall = (x: Record<string, unknown>) => (x.stats as { vcpuStallNs: number }).vcpuStallNs;
        expect(stall(a)).toBeCloseTo(stall(b), 3);
        for (const x of [a, b]) {
          const st = x.stats as Record<string, unknown>;
          delete st.vcpuStallNs;
          delete st.mmuLockReadNs;
          delete st.mmuLockWriteNs;
        }
        expect(a).toEqual(b);
      }),
      { numRuns: runs(80) },
    );
  });

  it('CLEAR of a whole slot without a mask equals CLEAR with an all-ones mask (fast path = general path)', () => {
    fc.assert(
      fc.property(shapeArb, fc.array(opArb, { maxLength: 20 }), (shape0, ops) => {
        const shape = { ...shape0, manualProtect: true };
        const a = new Driver(makeKvm(shape));
        const b = new Driver(makeKvm(shape));
        for (const op of ops) {
          a.apply(op);
          b.apply(op);
        }
        for (const d of [a, b]) for (const slot of d.kvm.memslots) if (!slot.dirtyLogging) kvmEnableDirtyLogging(d.kvm, slot);
        for (const slot of a.kvm.memslots) kvmClearDirtyLog(a.kvm, slot, 0, slot.npages);
        for (const slot of b.kvm.memslots) {
          const mask = new ChunkedBitmap(slot.npages, true);
          kvmClearDirtyLog(b.kvm, slot, 0, slot.npages, mask);
        }
        expect(dumpState(a.kvm)).toEqual(dumpState(b.kvm));
      }),
      { numRuns: runs(40) },
    );
  });

  it('after disabling dirty logging with any strategy and refaulting, every gfn is mapped as before enable', () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.array(opArb.filter((o) => o.kind !== 'invalidate' && o.kind !== 'disable'), { maxLength: 20 }),
        fc.constantFrom(...DISABLE_STRATEGIES),
        fc.record({ mmu_notifier_in_progress: fc.constantFrom(0, 0.3), memtype_needs_vcpu: fc.constantFrom(0, 0.2), invalid_pfn: fc.constantFrom(0, 0.2) }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (shape0, ops, strategy: DisableStrategy, likelihoods, populated) => {
          const shape = { ...shape0, bailouts: { ...likelihoods, pfn_not_mappable: 0 } };
          const kvm = makeKvm(shape);
          const d = new Driver(kvm);
          const n = totalPages(kvm);
          // Populate a prefix of guest memory with logging off.
          guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + Math.max(1, Math.floor(populated * n)), {
            fill(_g, lo, hi, out) {
              out.fill(0);
              for (let i = lo; i < hi; i++) out[i >>> 5] = (out[i >>> 5]! | (1 << (i & 31))) >>> 0;
            },
          });
          const before = mappingLevels(kvm);
          for (const slot of kvm.memslots) kvmEnableDirtyLogging(kvm, slot);
          for (const op of ops) if (op.kind !== 'enable') d.apply(op);
          for (const slot of kvm.memslots) kvmDisableDirtyLogging(kvm, slot, { strategy });
          expect(checkConsistency(kvm)).toEqual([]);
          for (let i = 0; i < n; i++) if (before[i]) kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + i, false);
          const after = mappingLevels(kvm);
          for (let i = 0; i < n; i++) {
            if (before[i]) expect(after[i], `level of gfn ${BASE_GFN + i} (${strategy})`).toBe(before[i]);
          }
          expect(checkConsistency(kvm)).toEqual([]);
        },
      ),
      { numRuns: runs(30) },
    );
  });

  it('promotion needs no refault; zapping strategies leave every collapsed region to refault once', () => {
    for (const backing of ['anonymous_hugetlb_2mb', 'anonymous_hugetlb_1gb'] as const) {
      const per = pagesPerHpage(backing === 'anonymous_hugetlb_1gb' ? 3 : 2);
      const results = DISABLE_STRATEGIES.map((strategy) => {
        const kvm = makeKvm({ backing, slotPages: [2 * 262144], nrVcpus: 1, manualProtect: true, eagerPageSplit: true, pml: true, fastPageFault: true, thpCoverage: 1, seed: 1 });
        const all: WriteDecider = { fill: (_g, lo, hi, out) => { out.fill(0); for (let i = lo; i < hi; i++) out[i >>> 5] = (out[i >>> 5]! | (1 << (i & 31))) >>> 0; } };
        guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + 2 * 262144, all);
        const slot = kvm.memslots[0]!;
        kvmEnableDirtyLogging(kvm, slot);
        kvmClearDirtyLog(kvm, slot, 0, slot.npages);
        guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + 2 * 262144, all);
        const before = kvm.stats.clone();
        kvmDisableDirtyLogging(kvm, slot, { strategy });
        const disable = kvm.stats.since(before);
        const pending = kvm.collapsedRegionsPending();
        const faultsBefore = kvm.stats.faults.refault;
        for (let g = BASE_GFN; g < BASE_GFN + 2 * 262144; g += 512) kvmGuestAccess(kvm, kvm.vcpus[0]!, g, false);
        return { strategy, pending, refaults: kvm.stats.faults.refault - faultsBefore, disable };
      });
      const regions = (2 * 262144) / per;
      for (const r of results) {
        if (r.strategy === 'promote') {
          expect(r.pending).toBe(0);
          expect(r.refaults).toBe(0);
          expect(r.disable.hugePagesPromoted).toBe(regions);
        } else {
          expect(r.pending).toBe(regions);
          expect(r.refaults).toBe(regions);
        }
      }
      const zap = results.find((r) => r.strategy === 'zap')!;
      const batched = results.find((r) => r.strategy === 'zap-batched')!;
      const leaf = results.find((r) => r.strategy === 'zap-leaf')!;
      expect(zap.disable.tlbFlushes).toBe(regions);
      expect(batched.disable.tlbFlushes).toBeLessThan(regions + 1);
      expect(leaf.disable.tlbFlushes).toBe(2 * 262144);
    }
  });
});
