import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_BITS,
  CHUNK_WORDS,
  ChunkedBitmap,
  ChunkKind,
  copyBitRange,
  firstSetBit,
  maskCount,
  popcount32,
  rangeMask,
} from '../../../shared/src/common/chunked-bitmap.js';

/** The reference model: one boolean per bit. */
type Model = boolean[];

/** The 16 words chunk c of the model should read as (bits past the end of the model are 0). */
function modelWords(model: Model, c: number): number[] {
  const words = new Array<number>(CHUNK_WORDS).fill(0);
  for (let b = 0; b < CHUNK_BITS; b++) {
    const i = c * CHUNK_BITS + b;
    if (i < model.length && model[i]) words[b >>> 5] = (words[b >>> 5]! | (1 << (b & 31))) >>> 0;
  }
  return words;
}

function modelKind(model: Model, c: number): ChunkKind {
  const lo = c * CHUNK_BITS;
  const hi = Math.min(lo + CHUNK_BITS, model.length);
  let ones = 0;
  for (let i = lo; i < hi; i++) if (model[i]) ones++;
  return ones === 0 ? ChunkKind.Zero : ones === hi - lo ? ChunkKind.One : ChunkKind.Mixed;
}

function modelCount(model: Model, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (model[i]) n++;
  return n;
}

/** Every observable of `bm` agrees with the model, and uniform chunks are stored as uniform (normalization). */
function expectMatches(bm: ChunkedBitmap, model: Model): void {
  expect(bm.nbits).toBe(model.length);
  expect(bm.nchunks).toBe(Math.ceil(model.length / CHUNK_BITS));
  for (let i = 0; i < model.length; i++) {
    if (bm.get(i) !== model[i]) expect.fail(`bit ${i}: bitmap ${bm.get(i)}, model ${model[i]}`);
  }
  const out = new Uint32Array(CHUNK_WORDS);
  let mixed = 0;
  for (let c = 0; c < bm.nchunks; c++) {
    expect(bm.chunkBits(c)).toBe(Math.min(CHUNK_BITS, model.length - c * CHUNK_BITS));
    expect([...bm.readChunk(c, out)], `readChunk(${c})`).toEqual(modelWords(model, c));
    const kind = modelKind(model, c);
    expect(bm.chunkKind(c), `chunkKind(${c})`).toBe(kind);
    if (kind === ChunkKind.Mixed) mixed++;
    expect(bm.chunkCount(c), `chunkCount(${c})`).toBe(modelCount(model, c * CHUNK_BITS, Math.min((c + 1) * CHUNK_BITS, model.length)));
  }
  expect(bm.mixedChunks).toBe(mixed);
  expect(bm.count()).toBe(modelCount(model, 0, model.length));
}

// ---------------------------------------------------------------------------------------------------------------
// Operations. Positions are drawn as raw naturals and reduced modulo the target's size when applied, so one
// sequence of operations works for any nbits (and for a target that was replaced by a copy of another size).

type Target = 0 | 1;
type WordsSpec = { kind: 'zero' } | { kind: 'ones' } | { kind: 'single'; bit: number } | { kind: 'random'; words: number[] };
type Op =
  | { k: 'set' | 'clear' | 'get'; t: Target; i: number }
  | { k: 'setRange' | 'clearRange' | 'countRange' | 'isUniform'; t: Target; a: number; b: number; align: boolean; v: boolean }
  | { k: 'readChunk'; t: Target; c: number }
  | { k: 'writeChunk'; t: Target; c: number; words: WordsSpec }
  | { k: 'setChunkUniform'; t: Target; c: number; v: boolean }
  | { k: 'fill'; t: Target; v: boolean }
  | { k: 'clone'; t: Target }
  | { k: 'copyBitRange'; t: Target; a: number; b: number; aligned: boolean };

const target = fc.constantFrom<Target>(0, 1);
const raw = fc.nat({ max: 1 << 20 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const wordsSpec: fc.Arbitrary<WordsSpec> = fc.oneof(
  fc.constant({ kind: 'zero' as const }),
  fc.constant({ kind: 'ones' as const }),
  fc.record({ kind: fc.constant('single' as const), bit: fc.nat({ max: CHUNK_BITS - 1 }) }),
  fc.record({
    kind: fc.constant('random' as const),
    words: fc.array(fc.oneof(u32, fc.constantFrom(0, 0xffffffff)), { minLength: CHUNK_WORDS, maxLength: CHUNK_WORDS }),
  }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constantFrom('set' as const, 'clear' as const, 'get' as const), t: target, i: raw }), weight: 6 },
  {
    arbitrary: fc.record({
      k: fc.constantFrom('setRange' as const, 'clearRange' as const, 'countRange' as const, 'isUniform' as const),
      t: target,
      a: raw,
      b: raw,
      align: fc.boolean(),
      v: fc.boolean(),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ k: fc.constant('readChunk' as const), t: target, c: raw }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('writeChunk' as const), t: target, c: raw, words: wordsSpec }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('setChunkUniform' as const), t: target, c: raw, v: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('fill' as const), t: target, v: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('clone' as const), t: target }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('copyBitRange' as const), t: target, a: raw, b: raw, aligned: fc.boolean() }), weight: 2 },
);

/** Sizes from 1 to 3000 bits, with multiples of 512 (and their neighbours) drawn often. */
const nbitsArb = fc.oneof(
  fc.integer({ min: 1, max: 3000 }),
  fc.integer({ min: 1, max: 5 }).map((k) => k * CHUNK_BITS),
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.constantFrom(-1, 1)).map(([k, d]) => k * CHUNK_BITS + d),
);

function wordsOf(spec: WordsSpec): Uint32Array {
  const w = new Uint32Array(CHUNK_WORDS);
  if (spec.kind === 'ones') w.fill(0xffffffff);
  else if (spec.kind === 'single') w[spec.bit >>> 5] = (1 << (spec.bit & 31)) >>> 0;
  else if (spec.kind === 'random') w.set(spec.words);
  return w;
}

/** [start, end) within [0, n], optionally snapped to chunk boundaries (end may snap to n). */
function rangeOf(n: number, a: number, b: number, align: boolean): [number, number] {
  let s = a % (n + 1);
  let e = b % (n + 1);
  if (s > e) [s, e] = [e, s];
  if (align) {
    s -= s % CHUNK_BITS;
    e = e % CHUNK_BITS === 0 || e === n ? e : Math.min(n, e - (e % CHUNK_BITS) + CHUNK_BITS);
  }
  return [s, e];
}

interface Pair {
  bm: ChunkedBitmap;
  model: Model;
}

/** Applies op to the pairs, checking every return value against the model. */
function apply(pairs: [Pair, Pair], op: Op): void {
  const p = pairs[op.t];
  const { bm, model } = p;
  const n = model.length;
  switch (op.k) {
    case 'set':
    case 'clear':
    case 'get': {
      if (n === 0) return;
      const i = op.i % n;
      const before = model[i]!;
      if (op.k === 'get') expect(bm.get(i)).toBe(before);
      else if (op.k === 'set') {
        expect(bm.set(i), `set(${i}) return`).toBe(!before);
        model[i] = true;
      } else {
        expect(bm.clear(i), `clear(${i}) return`).toBe(before);
        model[i] = false;
      }
      return;
    }
    case 'setRange':
    case 'clearRange':
    case 'countRange':
    case 'isUniform': {
      const [s, e] = rangeOf(n, op.a, op.b, op.align);
      const ones = modelCount(model, s, e);
      if (op.k === 'countRange') expect(bm.countRange(s, e), `countRange(${s}, ${e})`).toBe(ones);
      else if (op.k === 'isUniform') expect(bm.isUniform(s, e, op.v)).toBe(op.v ? ones === e - s : ones === 0);
      else if (op.k === 'setRange') {
        expect(bm.setRange(s, e), `setRange(${s}, ${e}) return`).toBe(e - s - ones);
        for (let i = s; i < e; i++) model[i] = true;
      } else {
        expect(bm.clearRange(s, e), `clearRange(${s}, ${e}) return`).toBe(ones);
        for (let i = s; i < e; i++) model[i] = false;
      }
      return;
    }
    case 'readChunk': {
      if (bm.nchunks === 0) return;
      const c = op.c % bm.nchunks;
      const out = new Uint32Array(CHUNK_WORDS).fill(0xdeadbeef);
      expect(bm.readChunk(c, out)).toBe(out);
      expect([...out]).toEqual(modelWords(model, c));
      return;
    }
    case 'writeChunk': {
      if (bm.nchunks === 0) return;
      const c = op.c % bm.nchunks;
      const words = wordsOf(op.words);
      const copy = words.slice();
      bm.writeChunk(c, words);
      expect(words, 'writeChunk must not modify its argument').toEqual(copy);
      for (let b = 0; b < CHUNK_BITS && c * CHUNK_BITS + b < n; b++) model[c * CHUNK_BITS + b] = ((words[b >>> 5]! >>> (b & 31)) & 1) === 1;
      return;
    }
    case 'setChunkUniform': {
      if (bm.nchunks === 0) return;
      const c = op.c % bm.nchunks;
      bm.setChunkUniform(c, op.v);
      for (let i = c * CHUNK_BITS; i < Math.min(n, (c + 1) * CHUNK_BITS); i++) model[i] = op.v;
      return;
    }
    case 'fill':
      bm.fill(op.v);
      model.fill(op.v);
      return;
    case 'clone': {
      // The other target becomes an independent copy of this one.
      const copy = bm.clone();
      expectMatches(copy, model);
      pairs[op.t === 0 ? 1 : 0] = { bm: copy, model: [...model] };
      return;
    }
    case 'copyBitRange': {
      // The other target becomes bits [start, start + len) of this one.
      let start: number;
      if (op.aligned) start = (op.a % (Math.floor(n / CHUNK_BITS) + 1)) * CHUNK_BITS;
      else start = op.a % (n + 1);
      const len = op.b % (n - start + 1);
      const copy = copyBitRange(bm, start, len);
      const slice = model.slice(start, start + len);
      expectMatches(copy, slice);
      pairs[op.t === 0 ? 1 : 0] = { bm: copy, model: slice };
      return;
    }
  }
}

describe('popcount32', () => {
  const naive = (x: number): number => {
    let n = 0;
    for (let b = 0; b < 32; b++) if (((x >>> b) & 1) === 1) n++;
    return n;
  };

  it('matches a bit-by-bit count for every 32-bit value (as unsigned or as signed int32)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), (x) => {
        expect(popcount32(x)).toBe(naive(x));
      }),
      { numRuns: 2000 },
    );
  });

  it('handles the extremes', () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(-1)).toBe(32);
    expect(popcount32(0x80000000)).toBe(1);
    expect(popcount32(0x55555555)).toBe(16);
    for (let b = 0; b < 32; b++) expect(popcount32(2 ** b)).toBe(1);
  });
});

describe('chunk-mask helpers (16 words, one chunk)', () => {
  const bitsOf = (words: Uint32Array): number[] => {
    const out: number[] = [];
    for (let b = 0; b < CHUNK_BITS; b++) if ((words[b >>> 5]! >>> (b & 31)) & 1) out.push(b);
    return out;
  };

  it('rangeMask sets exactly the bits of [lo, hi) ∩ [0, 512), whatever the bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: -600, max: 1200 }), fc.integer({ min: -600, max: 1200 }), (lo, hi) => {
        const out = new Uint32Array(CHUNK_WORDS).fill(0xdeadbeef);
        rangeMask(lo, hi, out);
        const expected: number[] = [];
        for (let b = Math.max(lo, 0); b < Math.min(hi, CHUNK_BITS); b++) expected.push(b);
        expect(bitsOf(out)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('firstSetBit and maskCount agree with the bits set', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: CHUNK_BITS - 1 }), { maxLength: 40 }), (bits) => {
        const words = new Uint32Array(CHUNK_WORDS);
        for (const b of bits) words[b >>> 5] = (words[b >>> 5]! | (1 << (b & 31))) >>> 0;
        expect(firstSetBit(words)).toBe(bits.length === 0 ? -1 : Math.min(...bits));
        expect(maskCount(words)).toBe(bits.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('ChunkedBitmap against a boolean-array model', () => {
  it('agrees after every operation of a random sequence, on two bitmaps that are cloned and copied into each other', () => {
    fc.assert(
      fc.property(nbitsArb, nbitsArb, fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 60 }), (n0, n1, initial, ops) => {
        const pairs: [Pair, Pair] = [
          { bm: new ChunkedBitmap(n0, initial), model: new Array<boolean>(n0).fill(initial) },
          { bm: new ChunkedBitmap(n1), model: new Array<boolean>(n1).fill(false) },
        ];
        expectMatches(pairs[0].bm, pairs[0].model);
        expectMatches(pairs[1].bm, pairs[1].model);
        for (const op of ops) {
          apply(pairs, op);
          // Both bitmaps, so that a change to one that leaks into the other (shared storage after clone) shows up.
          expectMatches(pairs[0].bm, pairs[0].model);
          expectMatches(pairs[1].bm, pairs[1].model);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a clone diverges from its original without affecting it, in both directions', () => {
    fc.assert(
      fc.property(
        nbitsArb,
        fc.array(fc.tuple(raw, raw), { maxLength: 20 }),
        fc.array(fc.tuple(fc.boolean(), raw, raw), { minLength: 1, maxLength: 20 }),
        (n, presets, edits) => {
          const a = new ChunkedBitmap(n);
          const model: Model = new Array<boolean>(n).fill(false);
          for (const [x, y] of presets) {
            const [s, e] = rangeOf(n, x, y, false);
            a.setRange(s, e);
            for (let i = s; i < e; i++) model[i] = true;
          }
          const b = a.clone();
          const modelA = [...model];
          const modelB = [...model];
          for (const [onA, x, y] of edits) {
            const [s, e] = rangeOf(n, x, y, false);
            const [bm, m] = onA ? [a, modelA] : [b, modelB];
            // Toggle-like edit: set the range, then clear every other bit of it.
            bm.setRange(s, e);
            for (let i = s; i < e; i++) m[i] = true;
            for (let i = s; i < e; i += 2) {
              bm.clear(i);
              m[i] = false;
            }
          }
          expectMatches(a, modelA);
          expectMatches(b, modelB);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('copyBitRange', () => {
  /** A source with uniform and mixed chunks. */
  const sourceArb = nbitsArb.chain((n) =>
    fc.record({
      n: fc.constant(n),
      ones: fc.array(fc.tuple(raw, raw, fc.boolean()), { maxLength: 12 }),
    }),
  );

  function build(n: number, ranges: [number, number, boolean][]): { bm: ChunkedBitmap; model: Model } {
    const bm = new ChunkedBitmap(n);
    const model: Model = new Array<boolean>(n).fill(false);
    for (const [x, y, sparse] of ranges) {
      const [s, e] = rangeOf(n, x, y, !sparse);
      for (let i = s; i < e; i += sparse ? 3 : 1) {
        bm.set(i);
        model[i] = true;
      }
    }
    return { bm, model };
  }

  it('copies [start, start + n) at chunk-aligned offsets', () => {
    fc.assert(
      fc.property(sourceArb, raw, raw, ({ n, ones }, x, y) => {
        const { bm, model } = build(n, ones);
        const start = (x % (Math.floor(n / CHUNK_BITS) + 1)) * CHUNK_BITS;
        const len = y % (n - start + 1);
        const copy = copyBitRange(bm, start, len);
        expectMatches(copy, model.slice(start, start + len));
        expectMatches(bm, model); // the source is untouched
      }),
      { numRuns: 200 },
    );
  });

  it('copies [start, start + n) at unaligned offsets', () => {
    fc.assert(
      fc.property(sourceArb, raw, raw, ({ n, ones }, x, y) => {
        const { bm, model } = build(n, ones);
        const start = x % (n + 1);
        const len = y % (n - start + 1);
        const copy = copyBitRange(bm, start, len);
        expectMatches(copy, model.slice(start, start + len));
        expectMatches(bm, model);
      }),
      { numRuns: 200 },
    );
  });

  it('copies an all-ones source whose length ends inside a chunk without reading bits past the end', () => {
    for (const n of [1, 511, 513, 1000, 1535, 2048]) {
      const src = new ChunkedBitmap(n, true);
      for (const start of [0, 512, 1024]) {
        if (start > n) continue;
        for (const len of [0, 1, n - start, Math.max(0, n - start - 1)]) {
          const copy = copyBitRange(src, start, len);
          expect(copy.count()).toBe(len);
          expect(copy.mixedChunks).toBe(0);
          for (let c = 0; c < copy.nchunks; c++) expect(copy.chunkKind(c)).toBe(ChunkKind.One);
        }
      }
    }
  });
});

describe('ChunkedBitmap normalization and storage', () => {
  it('a chunk reads back as Zero / One as soon as its bits become uniform, whatever path made them so', () => {
    fc.assert(
      fc.property(nbitsArb, fc.boolean(), fc.boolean(), (n, byBits, value) => {
        const bm = new ChunkedBitmap(n, !value);
        const last = bm.nchunks - 1;
        const lo = last * CHUNK_BITS;
        // Make the last chunk (possibly partial) uniformly `value`, one bit or one range at a time.
        if (byBits) {
          for (let i = lo; i < n; i++) {
            expect(bm.chunkKind(last)).toBe(i === lo ? (value ? ChunkKind.Zero : ChunkKind.One) : ChunkKind.Mixed);
            if (value) bm.set(i);
            else bm.clear(i);
          }
        } else {
          const mid = lo + Math.floor((n - lo) / 2);
          if (value) bm.setRange(lo, mid);
          else bm.clearRange(lo, mid);
          expect(bm.chunkKind(last)).toBe(mid === lo ? (value ? ChunkKind.Zero : ChunkKind.One) : ChunkKind.Mixed);
          if (value) bm.setRange(mid, n);
          else bm.clearRange(mid, n);
        }
        expect(bm.chunkKind(last)).toBe(value ? ChunkKind.One : ChunkKind.Zero);
        expect(bm.mixedChunks).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('writeChunk of a word pattern that is uniform over the valid bits stores a uniform chunk, garbage past nbits ignored', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(u32, { minLength: CHUNK_WORDS, maxLength: CHUNK_WORDS }), fc.boolean(), (n, noise, value) => {
        const bm = new ChunkedBitmap(n, !value);
        const last = bm.nchunks - 1;
        const valid = n - last * CHUNK_BITS;
        const words = new Uint32Array(CHUNK_WORDS);
        for (let b = 0; b < CHUNK_BITS; b++) {
          const bit = b < valid ? value : ((noise[b >>> 5]! >>> (b & 31)) & 1) === 1;
          if (bit) words[b >>> 5] = (words[b >>> 5]! | (1 << (b & 31))) >>> 0;
        }
        bm.writeChunk(last, words);
        expect(bm.chunkKind(last)).toBe(value ? ChunkKind.One : ChunkKind.Zero);
        expect(bm.chunkCount(last)).toBe(value ? valid : 0);
        const out = bm.readChunk(last, new Uint32Array(CHUNK_WORDS));
        for (let b = valid; b < CHUNK_BITS; b++) expect((out[b >>> 5]! >>> (b & 31)) & 1).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('bits past nbits never read as set through readChunk, chunkCount or countRange', () => {
    fc.assert(
      fc.property(nbitsArb, fc.array(fc.tuple(raw, raw), { maxLength: 8 }), (n, ranges) => {
        const bm = new ChunkedBitmap(n);
        for (const [x, y] of ranges) bm.setRange(...rangeOf(n, x, y, false));
        bm.setRange(Math.max(0, n - 3), n);
        const check = () => {
          const last = bm.nchunks - 1;
          const valid = n - last * CHUNK_BITS;
          const out = bm.readChunk(last, new Uint32Array(CHUNK_WORDS));
          for (let b = valid; b < CHUNK_BITS; b++) expect((out[b >>> 5]! >>> (b & 31)) & 1).toBe(0);
          expect(bm.chunkCount(last)).toBeLessThanOrEqual(valid);
          expect(bm.count()).toBeLessThanOrEqual(n);
          expect(() => bm.countRange(0, n + 1)).toThrow(RangeError);
        };
        check();
        bm.fill(true);
        check();
        expect(bm.count()).toBe(n);
        bm.setChunkUniform(bm.nchunks - 1, true);
        check();
      }),
      { numRuns: 200 },
    );
  });

  it('get() of a bit past nbits reads as clear even when the last chunk is all ones', () => {
    for (const n of [1, 500, 1000, 1025]) {
      const bm = new ChunkedBitmap(n, true);
      for (let i = n; i < bm.nchunks * CHUNK_BITS; i++) expect(bm.get(i), `get(${i}) of ${n} bits`).toBe(false);
    }
  });

  it('range checks reject ranges outside [0, nbits)', () => {
    const bm = new ChunkedBitmap(1000);
    expect(() => bm.setRange(0, 1001)).toThrow(RangeError);
    expect(() => bm.clearRange(-1, 5)).toThrow(RangeError);
    expect(() => bm.countRange(10, 5)).toThrow(RangeError);
    expect(() => new ChunkedBitmap(-1)).toThrow(RangeError);
    expect(() => new ChunkedBitmap(1.5)).toThrow(RangeError);
    expect(bm.count()).toBe(0);
  });

  it('an empty bitmap has no chunks and counts zero', () => {
    const bm = new ChunkedBitmap(0, true);
    expect(bm.nchunks).toBe(0);
    expect(bm.count()).toBe(0);
    expect(bm.setRange(0, 0)).toBe(0);
    expect(copyBitRange(new ChunkedBitmap(600, true), 512, 0).nbits).toBe(0);
  });

  it('byteLength does not grow while only uniform operations are done', () => {
    type UOp = { k: 'fill'; v: boolean } | { k: 'uniform'; c: number; v: boolean } | { k: 'range'; a: number; b: number; v: boolean } | { k: 'write'; c: number; v: boolean };
    const uop: fc.Arbitrary<UOp> = fc.oneof(
      fc.record({ k: fc.constant('fill' as const), v: fc.boolean() }),
      fc.record({ k: fc.constant('uniform' as const), c: raw, v: fc.boolean() }),
      fc.record({ k: fc.constant('range' as const), a: raw, b: raw, v: fc.boolean() }),
      fc.record({ k: fc.constant('write' as const), c: raw, v: fc.boolean() }),
    );
    fc.assert(
      fc.property(nbitsArb, fc.boolean(), fc.array(uop, { maxLength: 40 }), (n, initial, ops) => {
        const bm = new ChunkedBitmap(n, initial);
        const model: Model = new Array<boolean>(n).fill(initial);
        const bytes = bm.byteLength;
        expect(bytes).toBe(4 * bm.nchunks); // state words only
        for (const op of ops) {
          if (op.k === 'fill') {
            bm.fill(op.v);
            model.fill(op.v);
          } else if (op.k === 'uniform') {
            const c = op.c % bm.nchunks;
            bm.setChunkUniform(c, op.v);
            for (let i = c * CHUNK_BITS; i < Math.min(n, (c + 1) * CHUNK_BITS); i++) model[i] = op.v;
          } else if (op.k === 'range') {
            const [s, e] = rangeOf(n, op.a, op.b, true); // whole chunks only
            if (op.v) bm.setRange(s, e);
            else bm.clearRange(s, e);
            for (let i = s; i < e; i++) model[i] = op.v;
          } else {
            const c = op.c % bm.nchunks;
            bm.writeChunk(c, new Uint32Array(CHUNK_WORDS).fill(op.v ? 0xffffffff : 0));
            for (let i = c * CHUNK_BITS; i < Math.min(n, (c + 1) * CHUNK_BITS); i++) model[i] = op.v;
          }
          expect(bm.byteLength).toBe(bytes);
          expect(bm.mixedChunks).toBe(0);
        }
        expectMatches(bm, model);
        const copy = bm.clone();
        expect(copy.byteLength).toBe(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('slots freed by normalization are reused: mixing the same number of chunks again does not grow storage', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 3 }), (nchunks, rounds) => {
        const bm = new ChunkedBitmap(nchunks * CHUNK_BITS);
        const mixAll = () => {
          for (let c = 0; c < nchunks; c++) bm.set(c * CHUNK_BITS + (c % CHUNK_BITS));
          expect(bm.mixedChunks).toBe(nchunks);
        };
        mixAll();
        bm.fill(false);
        expect(bm.mixedChunks).toBe(0);
        mixAll();
        const afterSecond = bm.byteLength;
        for (let r = 0; r < rounds; r++) {
          for (let c = 0; c < nchunks; c++) bm.clear(c * CHUNK_BITS + (c % CHUNK_BITS)); // normalizes back to Zero
          expect(bm.mixedChunks).toBe(0);
          expect(bm.count()).toBe(0);
          mixAll();
          expect(bm.byteLength).toBe(afterSecond);
        }
        expect(bm.count()).toBe(nchunks);
      }),
      { numRuns: 50 },
    );
  });
});
