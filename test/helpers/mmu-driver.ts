import fc from 'fast-check';
import { expect } from 'vitest';
import { ChunkedBitmap } from '../../shared/src/common/chunked-bitmap.js';
import { hash32 } from '../../shared/src/engine/rng.js';
import { BACKING_SOURCES, type BackingSource } from '../../shared/src/kernel/mmu/backing-source.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging, kvmGetDirtyLog } from '../../shared/src/kernel/mmu/dirty-log.js';
import { strategiesOfMmu } from '../../shared/src/kernel/mmu/disable-strategy.js';
import { guestAccessSequential } from '../../shared/src/kernel/mmu/guest-access-sequential.js';
import type { Kvm } from '../../shared/src/kernel/mmu/kvm.js';
import type { MmuBehaviours } from '../../shared/src/kernel/mmu/mmu-behaviours.js';
import { kvmMmuNotifierInvalidateRange } from '../../shared/src/kernel/mmu/mmu-notifier.js';
import { kvmGuestAccess } from '../../shared/src/kernel/mmu/page-fault.js';
import type { WriteDecider } from '../../shared/src/kernel/mmu/write-decider.js';
import { BASE_GFN, checkConsistency, totalPages, type VmShape } from './mmu-fixtures.js';

/**
 * Random VMs and operation sequences for the detailed model's property tests (the TDP MMU's and the shadow MMU's),
 * and the driver that applies them and checks the invariants after each.
 */
/** Slot sizes (in 4K pages) that fit a backing: whole huge pages, sometimes an odd tail to exercise slot alignment. */
export function slotPagesArb(backing: BackingSource): fc.Arbitrary<number[]> {
  const unit = backing === 'anonymous_hugetlb_1gb' ? 262144 : 512;
  const maxUnits = backing === 'anonymous_hugetlb_1gb' ? 2 : 6;
  const size = fc.oneof(
    fc.integer({ min: 1, max: maxUnits }).map((k) => k * unit),
    backing === 'anonymous' || backing === 'anonymous_thp' ? fc.integer({ min: 1, max: 2600 }) : fc.constant(unit),
  );
  return fc.array(size, { minLength: 1, maxLength: backing === 'anonymous_hugetlb_1gb' ? 2 : 3 });
}

/** The TDP MMU's release-keyed code paths and the NX mitigation, any combination. */
export const tdpBehavioursArb: fc.Arbitrary<Partial<MmuBehaviours>> = fc.record({
  splitOnFault: fc.constantFrom('zap-map-4k' as const, 'in-place' as const),
  zapLeafFlush: fc.constantFrom('batched' as const, 'per-leaf' as const),
  zapWalksLeaves: fc.boolean(),
  nxHugePages: fc.boolean(),
  nxAdjust: fc.constantFrom('any-nonleaf' as const, 'nx-child-only' as const),
});

export const shapeOf = (backing: BackingSource, behaviours: fc.Arbitrary<Partial<MmuBehaviours>>, eagerPageSplit: fc.Arbitrary<boolean>): fc.Arbitrary<VmShape> =>
  fc.record({
    backing: fc.constant(backing),
    slotPages: slotPagesArb(backing),
    nrVcpus: fc.integer({ min: 1, max: 4 }),
    manualProtect: fc.boolean(),
    eagerPageSplit,
    pml: fc.boolean(),
    fastPageFault: fc.boolean(),
    thpCoverage: fc.constantFrom(0, 0.5, 1),
    seed: fc.integer({ min: 0, max: 1000 }),
    behaviours,
  });

export const shapeArb: fc.Arbitrary<VmShape> = fc.constantFrom(...BACKING_SOURCES).chain((backing) => shapeOf(backing, tdpBehavioursArb, fc.boolean()));

export type Op =
  | { kind: 'access'; at: number; write: boolean; vcpu: number }
  | { kind: 'pass'; at: number; len: number; writes: 'all' | 'none' | 'some'; salt: number; vcpu: number }
  | { kind: 'enable'; slot: number }
  | { kind: 'get'; slot: number }
  | { kind: 'clear'; slot: number; first: number; num: number; salt: number; masked: boolean }
  | { kind: 'invalidate'; at: number; len: number }
  | { kind: 'disable'; slot: number; strategy: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disable' as const), slot: fc.nat(2), strategy: fc.nat(3) }) },
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
export class Driver {
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
        const strategies = strategiesOfMmu(kvm.config.tdpMmu);
        kvmDisableDirtyLogging(kvm, slot, { strategy: strategies[op.strategy % strategies.length]! });
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
export const runs = (n: number): number => Math.max(1, Math.round(n * scale));
