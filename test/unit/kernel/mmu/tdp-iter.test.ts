import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { kvmEnableDirtyLogging } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { Kvm } from '../../../../shared/src/kernel/mmu/kvm.js';
import { kvmGuestAccess } from '../../../../shared/src/kernel/mmu/page-fault.js';
import { isLastSpte, isShadowPresentPte } from '../../../../shared/src/kernel/mmu/spte.js';
import { forEachTdpPte, TdpIter } from '../../../../shared/src/kernel/mmu/tdp-iter.js';
import type { TdpMmu } from '../../../../shared/src/kernel/mmu/tdp-mmu.js';
import { TEST_BEHAVIOURS } from '../../../helpers/mmu-fixtures.js';

/** Pages mapped by one SPTE at each level (index = level): 4K, 2M, 1G, and a root entry's 512G. */
const SIZE = [0, 1, 512, 512 * 512, 512 * 512 * 512] as const;
const ROOT = 4;
const BASE_GFN = 0x100000; // 4 GiB

type Visit = readonly [level: number, gfn: number];

/**
 * The walk the iterator should make, written independently of it: a recursive pre-order enumeration of every SPTE
 * whose range intersects [start, end), from the root table (512 entries of 2^27 pages) down, descending into present
 * non-leaf SPTEs while level > minLevel, children in gfn order.
 */
function naiveWalk(mmu: TdpMmu, minLevel: number, start: number, end: number): Visit[] {
  const out: Visit[] = [];
  const walk = (level: number, tableGfn: number): void => {
    const size = SIZE[level]!;
    for (let k = 0; k < 512; k++) {
      const gfn = tableGfn + k * size;
      if (gfn >= end) break;
      if (gfn + size <= start) continue;
      out.push([level, gfn]);
      const spte = mmu.spteAt(level, gfn);
      if (level > minLevel && isShadowPresentPte(spte) && !isLastSpte(spte, level)) walk(level - 1, gfn);
    }
  };
  walk(ROOT, 0);
  return out;
}

function iterWalk(mmu: TdpMmu, minLevel: number, start: number, end: number): Visit[] {
  const out: Visit[] = [];
  forEachTdpPte(mmu, minLevel, start, end, (iter) => {
    // The iterator's oldSpte must be what is at its position.
    if (iter.oldSpte !== mmu.spteAt(iter.level, iter.gfn)) expect.fail(`oldSpte stale at level ${iter.level}, gfn ${iter.gfn}`);
    out.push([iter.level, iter.gfn]);
    if (out.length > 5_000_000) expect.fail('walk does not terminate');
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Random VMs: one or two memslots at 4 GiB, random pages touched (mapped at the backing's largest level while logging
// is off), then optionally dirty logging and more touches, so that some regions hold 4K tables (eager split, write
// faults on huge leaves split them, not-present faults map 4K) and others huge leaves.

interface Touch {
  readonly slot: number;
  readonly at: number; // fraction of the slot
  readonly write: boolean;
}

interface VmSpec {
  readonly backing: BackingSource;
  readonly slots: readonly { readonly gap: number; readonly npages: number }[];
  readonly before: readonly Touch[];
  readonly logging: { readonly eagerSplit: boolean; readonly initiallySet: boolean; readonly pml: boolean } | null;
  readonly after: readonly Touch[];
  readonly seed: number;
}

const touchArb = fc.record({ slot: fc.nat({ max: 1 }), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), write: fc.boolean() });

const vmSpecArb: fc.Arbitrary<VmSpec> = fc.record({
  backing: fc.constantFrom<BackingSource>('anonymous', 'anonymous_hugetlb_2mb', 'anonymous_hugetlb_1gb'),
  slots: fc.array(
    fc.record({
      gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300_000 })),
      npages: fc.oneof(fc.integer({ min: 2_000, max: 20_000 }), fc.integer({ min: 2_000, max: 400_000 }), fc.constant(262_144)),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  before: fc.array(touchArb, { minLength: 1, maxLength: 120 }),
  logging: fc.option(fc.record({ eagerSplit: fc.boolean(), initiallySet: fc.boolean(), pml: fc.boolean() }), { nil: null }),
  after: fc.array(touchArb, { maxLength: 120 }),
  seed: fc.nat(),
});

function buildVm(spec: VmSpec): Kvm {
  let base = BASE_GFN;
  const memslots = spec.slots.map((s, i) => {
    if (i > 0) base += s.gap;
    const slot = { baseGfn: base, npages: s.npages };
    base += s.npages;
    return slot;
  });
  const kvm = new Kvm({
    ...TEST_BEHAVIOURS,
    memslots,
    backing: spec.backing,
    nrVcpus: 1,
    manualProtect: spec.logging?.initiallySet ?? true,
    initiallySet: spec.logging?.initiallySet ?? true,
    eagerPageSplit: spec.logging?.eagerSplit ?? true,
    pml: spec.logging?.pml ?? true,
    fastPageFault: true,
    profile: DEFAULT_PROFILE,
    seed: spec.seed,
  });
  const vcpu = kvm.vcpus[0]!;
  const touch = (t: Touch): void => {
    const slot = kvm.memslots[t.slot % kvm.memslots.length]!;
    kvmGuestAccess(kvm, vcpu, slot.baseGfn + Math.floor(t.at * slot.npages), t.write);
  };
  spec.before.forEach(touch);
  if (spec.logging) {
    for (const slot of kvm.memslots) kvmEnableDirtyLogging(kvm, slot);
    spec.after.forEach(touch);
  }
  return kvm;
}

/** A [start, end) inside [0, nGfns), often snapped to a slot edge or to a 2M / 1G boundary. */
const rangeArb = fc.record({
  a: fc.double({ min: 0, max: 1, noNaN: true }),
  b: fc.double({ min: 0, max: 1, noNaN: true }),
  snap: fc.constantFrom(0, 1, 512, 512 * 512),
});

function toRange(kvm: Kvm, r: { a: number; b: number; snap: number }): [number, number] {
  const n = kvm.mmu.nGfns;
  // Half the ranges are drawn within the memslots, where the tables are.
  const lo = r.snap === 0 ? BASE_GFN : 0;
  const hi = r.snap === 0 ? kvm.memslots[kvm.memslots.length - 1]!.endGfn : n;
  let s = lo + Math.floor(r.a * (hi - lo));
  let e = lo + Math.floor(r.b * (hi - lo));
  if (s > e) [s, e] = [e, s];
  if (r.snap > 1) {
    s -= s % r.snap;
    e = Math.min(n, e - (e % r.snap) + r.snap);
  }
  if (e === s) e = Math.min(n, s + 1);
  if (e === s) s = e - 1;
  return [s, e];
}

/** Counts of (level, present leaf / table / none) over a walk, to make sure the VMs exercise all shapes. */
function shapeOf(mmu: TdpMmu, visits: readonly Visit[]): Set<string> {
  const kinds = new Set<string>();
  for (const [level, gfn] of visits) {
    const spte = mmu.spteAt(level, gfn);
    kinds.add(`${level}:${!isShadowPresentPte(spte) ? 'none' : isLastSpte(spte, level) ? 'leaf' : 'table'}`);
  }
  return kinds;
}

const key = ([level, gfn]: Visit): string => `${level}:${gfn}`;

describe('forEachTdpPte on a hand-built VM', () => {
  // hugetlb 2M, 2048 pages at 4 GiB: gfn 0x100000 is mapped by a 2M leaf; then, with logging on and eager split off,
  // a not-present fault maps gfn 0x100000 + 600 at 4K under a new table. nGfns = 5 × 2^18 (rounded up to 1 GiB).
  function handBuilt(): Kvm {
    const kvm = new Kvm({
      ...TEST_BEHAVIOURS,
      memslots: [{ baseGfn: BASE_GFN, npages: 2048 }],
      backing: 'anonymous_hugetlb_2mb',
      nrVcpus: 1,
      manualProtect: false,
      initiallySet: false,
      eagerPageSplit: false,
      pml: true,
      fastPageFault: true,
      profile: DEFAULT_PROFILE,
      seed: 1,
    });
    kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN, true);
    kvmEnableDirtyLogging(kvm, kvm.memslots[0]!);
    kvmGuestAccess(kvm, kvm.vcpus[0]!, BASE_GFN + 600, true);
    return kvm;
  }

  it('visits the root entry, every 1G entry, the 512 entries of the 1G table and the 512 of the 4K table', () => {
    const kvm = handBuilt();
    expect(kvm.mmu.nGfns).toBe(5 * SIZE[3]);
    const visits = iterWalk(kvm.mmu, 1, 0, kvm.mmu.nGfns);
    const expected: Visit[] = [[4, 0]];
    for (let k = 0; k < 5; k++) {
      expected.push([3, k * SIZE[3]]);
      if (k === 4) {
        for (let j = 0; j < 512; j++) {
          expected.push([2, BASE_GFN + j * 512]);
          if (j === 1) for (let i = 0; i < 512; i++) expected.push([1, BASE_GFN + 512 + i]);
        }
      }
    }
    expect(visits).toEqual(expected);
    expect(visits).toHaveLength(1 + 5 + 512 + 512);
    expect(iterWalk(kvm.mmu, 2, 0, kvm.mmu.nGfns)).toHaveLength(1 + 5 + 512);
    expect(iterWalk(kvm.mmu, 3, 0, kvm.mmu.nGfns)).toHaveLength(1 + 5);
  });

  it('restricted to a sub-range, visits only the SPTEs whose ranges intersect it', () => {
    const kvm = handBuilt();
    const visits = iterWalk(kvm.mmu, 1, BASE_GFN + 600, BASE_GFN + 700);
    const expected: Visit[] = [[4, 0], [3, BASE_GFN], [2, BASE_GFN + 512]];
    for (let g = BASE_GFN + 600; g < BASE_GFN + 700; g++) expected.push([1, g]);
    expect(visits).toEqual(expected);
    // A range inside the 2M leaf stops at the leaf.
    expect(iterWalk(kvm.mmu, 1, BASE_GFN + 3, BASE_GFN + 4)).toEqual([[4, 0], [3, BASE_GFN], [2, BASE_GFN]]);
  });

  it('never visits an SPTE starting at or past end, even for an empty range or one past nGfns', () => {
    const kvm = handBuilt();
    const n = kvm.mmu.nGfns;
    for (const [start, end] of [
      [BASE_GFN + 600, BASE_GFN + 600],
      [n + 5, n + 100],
    ] as const) {
      forEachTdpPte(kvm.mmu, 1, start, end, (iter) => {
        expect(iter.gfn, `[${start}, ${end}) visits level ${iter.level}`).toBeLessThan(Math.min(end, n));
      });
    }
  });

  it('clamps end to the gfn space the MMU covers', () => {
    const kvm = handBuilt();
    const n = kvm.mmu.nGfns;
    expect(iterWalk(kvm.mmu, 1, BASE_GFN, 2 ** 40)).toEqual(iterWalk(kvm.mmu, 1, BASE_GFN, n));
    expect(iterWalk(kvm.mmu, 1, BASE_GFN, n)).toEqual(naiveWalk(kvm.mmu, 1, BASE_GFN, n));
  });
});

describe('forEachTdpPte against a naive recursive walk', () => {
  it('visits the same (level, gfn) sequence on random VMs, ranges and min levels', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(vmSpecArb, fc.array(fc.tuple(rangeArb, fc.constantFrom(1, 2, 3)), { minLength: 1, maxLength: 4 }), (spec, ranges) => {
        const kvm = buildVm(spec);
        const n = kvm.mmu.nGfns;
        for (const [minLevel, start, end] of [
          [1, 0, n] as const,
          ...ranges.map(([r, minLevel]) => [minLevel, ...toRange(kvm, r)] as const),
        ]) {
          const expected = naiveWalk(kvm.mmu, minLevel, start, end);
          const actual = iterWalk(kvm.mmu, minLevel, start, end);
          if (actual.length !== expected.length || actual.some((v, i) => key(v) !== key(expected[i]!))) {
            expect(actual, `minLevel ${minLevel}, [${start}, ${end})`).toEqual(expected);
          }
          for (const k of shapeOf(kvm.mmu, actual)) seen.add(k);
        }
      }),
      {
        numRuns: 60,
        // Always include a VM with a 1G leaf next to 2M leaves split by logging, so every shape below is met.
        examples: [
          [
            {
              backing: 'anonymous_hugetlb_1gb',
              slots: [{ gap: 0, npages: 3 * 262_144 }],
              before: [0.1, 0.5].map((at) => ({ slot: 0, at, write: true })),
              logging: null,
              after: [],
              seed: 7,
            },
            [[{ a: 0.3, b: 0.6, snap: 0 }, 1]],
          ],
          [
            {
              backing: 'anonymous_hugetlb_2mb',
              slots: [{ gap: 0, npages: 10_000 }, { gap: 1000, npages: 5000 }],
              before: [0.1, 0.5, 0.9].map((at) => ({ slot: 0, at, write: true })),
              logging: { eagerSplit: false, initiallySet: false, pml: true },
              after: [0.5, 0.7].map((at) => ({ slot: 0, at, write: true })).concat([{ slot: 1, at: 0.5, write: false }]),
              seed: 7,
            },
            [[{ a: 0.2, b: 0.8, snap: 0 }, 2]],
          ],
        ],
      },
    );
    // The random VMs did exercise huge leaves at 1G and 2M, 4K tables and non-present entries.
    for (const k of ['4:table', '3:table', '3:leaf', '3:none', '2:table', '2:leaf', '2:none', '1:leaf', '1:none']) expect(seen).toContain(k);
  });
});

describe('TdpIter yielding (markYielded, then next restarts from the root)', () => {
  /**
   * Walks with yields at random points (only where a yield makes progress, as tdp_mmu_iter_cond_resched checks) and
   * returns the visits plus, for each visit, whether it came right after a restart.
   */
  function walkWithYields(mmu: TdpMmu, minLevel: number, start: number, end: number, yieldAt: (i: number) => boolean) {
    const visits: Visit[] = [];
    const restartOf: (number | undefined)[] = []; // nextLastLevelGfn of the yield that preceded this visit's restart
    const iter = new TdpIter(mmu).startWalk(minLevel, start, end);
    let restartFrom: number | undefined;
    let yields = 0;
    while (iter.valid) {
      visits.push([iter.level, iter.gfn]);
      restartOf.push(restartFrom);
      restartFrom = undefined;
      if (iter.canYield && yieldAt(visits.length)) {
        restartFrom = iter.nextLastLevelGfn;
        iter.markYielded();
        yields++;
      }
      iter.next();
      if (visits.length > 10_000_000) expect.fail('walk does not terminate');
    }
    return { visits, restartOf, yields };
  }

  it('still visits every SPTE, in order, revisiting only the path back down from the root', () => {
    let totalYields = 0;
    fc.assert(
      fc.property(
        vmSpecArb,
        rangeArb,
        fc.constantFrom(1, 2, 3),
        fc.integer({ min: 1, max: 50 }),
        fc.nat(),
        (spec, r, minLevel, period, salt) => {
          const kvm = buildVm(spec);
          const [start, end] = r.a < 0.2 ? [0, kvm.mmu.nGfns] : toRange(kvm, r);
          const expected = naiveWalk(kvm.mmu, minLevel, start, end);
          // Yield on a pseudo-random ~1/period of the visits.
          const yieldAt = (i: number): boolean => ((Math.imul(i ^ salt, 0x9e3779b1) >>> 7) % period) === 0;
          const { visits, restartOf, yields } = walkWithYields(kvm.mmu, minLevel, start, end, yieldAt);
          totalYields += yields;

          // 1. First visits, in order, are exactly the walk without yields.
          const seen = new Set<string>();
          const firsts: Visit[] = [];
          for (const v of visits) {
            if (!seen.has(key(v))) {
              seen.add(key(v));
              firsts.push(v);
            }
          }
          expect(firsts.map(key)).toEqual(expected.map(key));

          // 2. At the min level, gfns never go backwards.
          let lastMin = -1;
          for (const [level, gfn] of visits) {
            if (level !== minLevel) continue;
            expect(gfn).toBeGreaterThanOrEqual(lastMin);
            lastMin = gfn;
          }

          // 3. A revisit only happens on the way back down after a restart: the root entry, then one entry per level
          //    on the path to nextLastLevelGfn, levels descending one at a time.
          const onRestartPath = new Array<boolean>(visits.length).fill(false);
          for (let i = 0; i < visits.length; i++) {
            const N = restartOf[i];
            if (N === undefined) continue;
            let j = i;
            let level = ROOT;
            while (j < visits.length && (j === i || restartOf[j] === undefined) && visits[j]![0] === level && visits[j]![1] === N - (N % SIZE[level]!)) {
              onRestartPath[j] = true;
              j++;
              level--;
            }
            expect(j, 'the restart visits the root entry on the path first').toBeGreaterThan(i);
            expect(j - i, 'the path back down is at most root..minLevel').toBeLessThanOrEqual(ROOT - minLevel + 1);
          }
          const visited = new Set<string>();
          visits.forEach((v, i) => {
            if (visited.has(key(v)) && !onRestartPath[i]) expect.fail(`visit ${i} ${key(v)} repeats an SPTE off the restart path`);
            visited.add(key(v));
          });
        },
      ),
      { numRuns: 60 },
    );
    expect(totalYields).toBeGreaterThan(100);
  });

  it('a yield right after a step down or at the last entry of a table resumes where it left off', () => {
    // Yield at every opportunity on a full walk: the first-visit order must still equal the plain walk.
    const kvm = buildVm({
      backing: 'anonymous_hugetlb_2mb',
      slots: [{ gap: 0, npages: 4096 }],
      before: [0.01, 0.3, 0.6, 0.9].map((at) => ({ slot: 0, at, write: true })),
      logging: { eagerSplit: false, initiallySet: false, pml: true },
      after: [0.3, 0.35, 0.75].map((at) => ({ slot: 0, at, write: true })),
      seed: 3,
    });
    for (const minLevel of [1, 2, 3]) {
      const expected = naiveWalk(kvm.mmu, minLevel, 0, kvm.mmu.nGfns);
      const { visits, yields } = walkWithYields(kvm.mmu, minLevel, 0, kvm.mmu.nGfns, () => true);
      const firsts: string[] = [];
      const seen = new Set<string>();
      for (const v of visits) {
        if (seen.has(key(v))) continue;
        seen.add(key(v));
        firsts.push(key(v));
      }
      expect(firsts).toEqual(expected.map(key));
      // Every visit after the first can yield once progress has been made: there are many yields and each costs at
      // most one path of ROOT - minLevel + 1 revisits.
      expect(yields).toBeGreaterThan(expected.length / 2);
      expect(visits.length).toBeLessThanOrEqual(expected.length + yields * (ROOT - minLevel + 1));
    }
  });

  it('canYield is false right after a restart, until the walk moves on', () => {
    const kvm = buildVm({
      backing: 'anonymous',
      slots: [{ gap: 0, npages: 2048 }],
      before: [{ slot: 0, at: 0.5, write: true }],
      logging: null,
      after: [],
      seed: 1,
    });
    const iter = new TdpIter(kvm.mmu).startWalk(1, 0, kvm.mmu.nGfns);
    expect(iter.canYield).toBe(false);
    iter.next(); // down to level 3: no sideways progress yet
    expect(iter.level).toBe(3);
    expect(iter.canYield).toBe(false);
    iter.next(); // sideways to the next 1G entry
    expect(iter.gfn).toBe(SIZE[3]);
    expect(iter.canYield).toBe(true);
    iter.markYielded();
    iter.next();
    expect(iter.level).toBe(ROOT);
    expect(iter.gfn).toBe(0);
    expect(iter.canYield).toBe(false);
    iter.next();
    expect([iter.level, iter.gfn]).toEqual([3, SIZE[3]]);
  });
});
