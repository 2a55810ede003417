/**
 * A bitmap of `nbits` bits stored in chunks of 512 bits (one chunk per 2 MiB of guest memory when a bit stands
 * for a 4 KiB page). A chunk whose bits are all equal costs no storage beyond its 4-byte state word; only mixed
 * chunks take a 64-byte slot in a shared slab. This keeps the model of a 1 TiB VM small while most 2 MiB regions
 * are uniformly present / writable / dirty, and makes whole-region operations O(1).
 */
export const CHUNK_SHIFT = 9;
export const CHUNK_BITS = 1 << CHUNK_SHIFT;
export const CHUNK_WORDS = CHUNK_BITS >>> 5;

/** State word of a chunk whose bits are all 0. */
const ALL_ZERO = -1;
/** State word of a chunk whose (valid) bits are all 1. */
const ALL_ONE = -2;

/** Uniform or mixed, as reported by {@link ChunkedBitmap.chunkKind}. */
export const enum ChunkKind {
  Zero = 0,
  One = 1,
  Mixed = 2,
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Mask of bits [lo, hi) within one 32-bit word, 0 <= lo <= hi <= 32. */
function wordMask(lo: number, hi: number): number {
  if (hi <= lo) return 0;
  const upper = hi === 32 ? 0xffffffff : ((1 << hi) - 1) >>> 0;
  const lower = lo === 0 ? 0 : ((1 << lo) - 1) >>> 0;
  return (upper & ~lower) >>> 0;
}

// Helpers on one chunk's bits as CHUNK_WORDS 32-bit words (bit i of the chunk = bit i & 31 of word i >>> 5).

/** Sets bits [lo, hi) of a chunk mask (either bound may lie outside [0, 512]) and clears the rest. */
export function rangeMask(lo: number, hi: number, out: Uint32Array): void {
  // wordMask inlined by hand: this runs once per 2 MiB region of a guest pass.
  for (let w = 0; w < CHUNK_WORDS; w++) {
    const a = Math.max(lo - w * 32, 0);
    const b = Math.min(hi - w * 32, 32);
    if (b <= a) out[w] = 0;
    else {
      const upper = b === 32 ? 0xffffffff : ((1 << b) - 1) >>> 0;
      const lower = a === 0 ? 0 : ((1 << a) - 1) >>> 0;
      out[w] = (upper & ~lower) >>> 0;
    }
  }
}

/** Index of the lowest set bit of a chunk mask, or -1 when none is set. */
export function firstSetBit(words: Uint32Array): number {
  for (let w = 0; w < CHUNK_WORDS; w++) {
    const v = words[w]!;
    if (v !== 0) return w * 32 + (31 - Math.clz32(v & -v));
  }
  return -1;
}

/** Number of set bits of a chunk mask. */
export function maskCount(words: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < CHUNK_WORDS; w++) n += popcount32(words[w]!);
  return n;
}

export class ChunkedBitmap {
  readonly nbits: number;
  readonly nchunks: number;
  /** Per chunk: ALL_ZERO, ALL_ONE, or the index of its slot in `slab`. */
  private readonly state: Int32Array;
  private slab: Uint32Array;
  private freeSlots: Int32Array;
  private freeTop = 0;
  private slotsInUse = 0;
  private slotHighWater = 0;
  /** Valid-bit mask of each word of the last chunk (the bitmap may end inside a chunk). */
  private readonly lastChunkValid: Uint32Array;
  private readonly lastChunkBits: number;

  constructor(nbits: number, fill: boolean = false) {
    if (!Number.isInteger(nbits) || nbits < 0) throw new RangeError(`nbits must be a non-negative integer, got ${nbits}`);
    this.nbits = nbits;
    this.nchunks = Math.ceil(nbits / CHUNK_BITS);
    this.state = new Int32Array(this.nchunks).fill(fill ? ALL_ONE : ALL_ZERO);
    this.slab = new Uint32Array(0);
    this.freeSlots = new Int32Array(0);
    this.lastChunkBits = nbits - (this.nchunks - 1) * CHUNK_BITS;
    this.lastChunkValid = new Uint32Array(CHUNK_WORDS);
    for (let w = 0; w < CHUNK_WORDS; w++) this.lastChunkValid[w] = wordMask(0, Math.max(0, Math.min(32, this.lastChunkBits - w * 32)));
  }

  /** Number of valid bits in chunk `c` (512 except possibly the last). */
  chunkBits(c: number): number {
    return c === this.nchunks - 1 ? this.lastChunkBits : CHUNK_BITS;
  }

  chunkKind(c: number): ChunkKind {
    const s = this.state[c]!;
    return s === ALL_ZERO ? ChunkKind.Zero : s === ALL_ONE ? ChunkKind.One : ChunkKind.Mixed;
  }

  get(i: number): boolean {
    if (i >= this.nbits) return false;
    const s = this.state[i >>> CHUNK_SHIFT]!;
    if (s === ALL_ZERO) return false;
    if (s === ALL_ONE) return true;
    return ((this.slab[s * CHUNK_WORDS + ((i & (CHUNK_BITS - 1)) >>> 5)]! >>> (i & 31)) & 1) === 1;
  }

  /** Sets bit i; returns true when it was 0 before. */
  set(i: number): boolean {
    const c = i >>> CHUNK_SHIFT;
    const s = this.state[c]!;
    if (s === ALL_ONE) return false;
    const slot = s === ALL_ZERO ? this.materialize(c, false) : s;
    const w = slot * CHUNK_WORDS + ((i & (CHUNK_BITS - 1)) >>> 5);
    const bit = (1 << (i & 31)) >>> 0;
    const old = this.slab[w]!;
    if ((old & bit) !== 0) return false;
    this.slab[w] = (old | bit) >>> 0;
    this.normalize(c);
    return true;
  }

  /** Clears bit i; returns true when it was 1 before. */
  clear(i: number): boolean {
    const c = i >>> CHUNK_SHIFT;
    const s = this.state[c]!;
    if (s === ALL_ZERO) return false;
    const slot = s === ALL_ONE ? this.materialize(c, true) : s;
    const w = slot * CHUNK_WORDS + ((i & (CHUNK_BITS - 1)) >>> 5);
    const bit = (1 << (i & 31)) >>> 0;
    const old = this.slab[w]!;
    if ((old & bit) === 0) return false;
    this.slab[w] = (old & ~bit) >>> 0;
    this.normalize(c);
    return true;
  }

  /** Number of set bits in chunk c. */
  chunkCount(c: number): number {
    const s = this.state[c]!;
    if (s === ALL_ZERO) return 0;
    if (s === ALL_ONE) return this.chunkBits(c);
    let n = 0;
    const base = s * CHUNK_WORDS;
    for (let w = 0; w < CHUNK_WORDS; w++) n += popcount32(this.slab[base + w]!);
    return n;
  }

  /** Copies chunk c into `out` (16 words), expanding uniform chunks. */
  readChunk(c: number, out: Uint32Array): Uint32Array {
    const s = this.state[c]!;
    if (s === ALL_ZERO) out.fill(0);
    else if (s === ALL_ONE) {
      if (c === this.nchunks - 1) out.set(this.lastChunkValid);
      else out.fill(0xffffffff);
    } else out.set(this.slab.subarray(s * CHUNK_WORDS, s * CHUNK_WORDS + CHUNK_WORDS));
    return out;
  }

  /** Replaces chunk c with the 16 words in `words` (bits past the end of the bitmap are ignored). */
  writeChunk(c: number, words: Uint32Array): void {
    const valid = c === this.nchunks - 1 ? this.lastChunkValid : undefined;
    let all0 = true;
    let all1 = true;
    for (let w = 0; w < CHUNK_WORDS; w++) {
      const m = valid ? valid[w]! : 0xffffffff;
      const v = (words[w]! & m) >>> 0;
      if (v !== 0) all0 = false;
      if (v !== m) all1 = false;
    }
    if (all0) return this.setChunkUniform(c, false);
    if (all1) return this.setChunkUniform(c, true);
    let s = this.state[c]!;
    if (s < 0) s = this.materialize(c, false);
    const base = s * CHUNK_WORDS;
    for (let w = 0; w < CHUNK_WORDS; w++) this.slab[base + w] = (words[w]! & (valid ? valid[w]! : 0xffffffff)) >>> 0;
  }

  /** Makes every bit of chunk c equal to `value`. */
  setChunkUniform(c: number, value: boolean): void {
    const s = this.state[c]!;
    if (s >= 0) this.release(s);
    this.state[c] = value ? ALL_ONE : ALL_ZERO;
  }

  /** Sets bits [start, end). Returns how many were 0 before. */
  setRange(start: number, end: number): number {
    return this.assignRange(start, end, true);
  }

  /** Clears bits [start, end). Returns how many were 1 before. */
  clearRange(start: number, end: number): number {
    return this.assignRange(start, end, false);
  }

  /** Number of set bits in [start, end). */
  countRange(start: number, end: number): number {
    this.checkRange(start, end);
    let n = 0;
    let i = start;
    while (i < end) {
      const c = i >>> CHUNK_SHIFT;
      const chunkStart = c << CHUNK_SHIFT;
      const chunkEnd = Math.min(chunkStart + CHUNK_BITS, end);
      const s = this.state[c]!;
      if (s === ALL_ONE) n += chunkEnd - i;
      else if (s !== ALL_ZERO) n += this.countWithinSlot(s, i - chunkStart, chunkEnd - chunkStart);
      i = chunkEnd;
    }
    return n;
  }

  count(): number {
    return this.countRange(0, this.nbits);
  }

  fill(value: boolean): void {
    for (let c = 0; c < this.nchunks; c++) this.setChunkUniform(c, value);
  }

  /** A deep copy (used to evaluate several disable strategies from one pre-disable state). */
  clone(): ChunkedBitmap {
    const copy = new ChunkedBitmap(this.nbits);
    copy.state.set(this.state);
    copy.slab = this.slab.slice();
    copy.freeSlots = this.freeSlots.slice();
    copy.freeTop = this.freeTop;
    copy.slotsInUse = this.slotsInUse;
    copy.slotHighWater = this.slotHighWater;
    return copy;
  }

  /** Bits [c0 * 512, c0 * 512 + n) as a new bitmap: uniform chunks are copied as state words. */
  copyAlignedRange(c0: number, n: number): ChunkedBitmap {
    const out = new ChunkedBitmap(n);
    const words = new Uint32Array(CHUNK_WORDS);
    for (let c = 0; c < out.nchunks; c++) {
      const s = this.state[c0 + c]!;
      if (s === ALL_ZERO) continue;
      if (s === ALL_ONE && out.chunkBits(c) === CHUNK_BITS) out.state[c] = ALL_ONE;
      else out.writeChunk(c, this.readChunk(c0 + c, words));
    }
    return out;
  }

  /** True when every bit of [start, end) equals `value`. */
  isUniform(start: number, end: number, value: boolean): boolean {
    const n = this.countRange(start, end);
    return value ? n === end - start : n === 0;
  }

  /** Bytes of storage this bitmap holds now (state words + allocated slab). */
  get byteLength(): number {
    return this.state.byteLength + this.slab.byteLength + this.freeSlots.byteLength;
  }

  /** Mixed chunks currently stored. */
  get mixedChunks(): number {
    return this.slotsInUse;
  }

  private checkRange(start: number, end: number): void {
    if (!(start >= 0 && end <= this.nbits && start <= end)) {
      throw new RangeError(`bit range [${start}, ${end}) outside [0, ${this.nbits})`);
    }
  }

  private assignRange(start: number, end: number, value: boolean): number {
    this.checkRange(start, end);
    let changed = 0;
    let i = start;
    while (i < end) {
      const c = i >>> CHUNK_SHIFT;
      const chunkStart = c << CHUNK_SHIFT;
      const bits = this.chunkBits(c);
      const chunkEnd = Math.min(chunkStart + bits, end);
      const s = this.state[c]!;
      const uniformTarget = value ? ALL_ONE : ALL_ZERO;
      if (s === uniformTarget) {
        i = chunkEnd;
        continue;
      }
      if (i === chunkStart && chunkEnd === chunkStart + bits) {
        // Whole chunk.
        changed += value ? bits - this.chunkCount(c) : this.chunkCount(c);
        this.setChunkUniform(c, value);
      } else {
        const slot = s < 0 ? this.materialize(c, s === ALL_ONE) : s;
        const base = slot * CHUNK_WORDS;
        const lo = i - chunkStart;
        const hi = chunkEnd - chunkStart;
        for (let w = lo >>> 5; w <= (hi - 1) >>> 5; w++) {
          const m = wordMask(Math.max(lo - w * 32, 0), Math.min(hi - w * 32, 32));
          const old = this.slab[base + w]!;
          if (value) {
            changed += popcount32(m & ~old);
            this.slab[base + w] = (old | m) >>> 0;
          } else {
            changed += popcount32(m & old);
            this.slab[base + w] = (old & ~m) >>> 0;
          }
        }
        this.normalize(c);
      }
      i = chunkEnd;
    }
    return changed;
  }

  private countWithinSlot(slot: number, lo: number, hi: number): number {
    const base = slot * CHUNK_WORDS;
    let n = 0;
    for (let w = lo >>> 5; w <= (hi - 1) >>> 5; w++) {
      n += popcount32(this.slab[base + w]! & wordMask(Math.max(lo - w * 32, 0), Math.min(hi - w * 32, 32)));
    }
    return n;
  }

  /** Gives chunk c a slab slot holding its current uniform value; returns the slot. */
  private materialize(c: number, ones: boolean): number {
    let slot: number;
    if (this.freeTop > 0) slot = this.freeSlots[--this.freeTop]!;
    else {
      slot = this.slotHighWater++;
      if ((slot + 1) * CHUNK_WORDS > this.slab.length) {
        const grown = new Uint32Array(Math.max(CHUNK_WORDS * 64, this.slab.length * 2));
        grown.set(this.slab);
        this.slab = grown;
      }
    }
    this.slotsInUse++;
    const base = slot * CHUNK_WORDS;
    if (ones) {
      if (c === this.nchunks - 1) this.slab.set(this.lastChunkValid, base);
      else this.slab.fill(0xffffffff, base, base + CHUNK_WORDS);
    } else this.slab.fill(0, base, base + CHUNK_WORDS);
    this.state[c] = slot;
    return slot;
  }

  private release(slot: number): void {
    if (this.freeTop === this.freeSlots.length) {
      const grown = new Int32Array(Math.max(64, this.freeSlots.length * 2));
      grown.set(this.freeSlots);
      this.freeSlots = grown;
    }
    this.freeSlots[this.freeTop++] = slot;
    this.slotsInUse--;
  }

  /** Returns a mixed chunk to a uniform state word when its bits became all equal. */
  private normalize(c: number): void {
    const s = this.state[c]!;
    if (s < 0) return;
    const base = s * CHUNK_WORDS;
    const valid = c === this.nchunks - 1 ? this.lastChunkValid : undefined;
    let all0 = true;
    let all1 = true;
    for (let w = 0; w < CHUNK_WORDS; w++) {
      const v = this.slab[base + w]!;
      const m = valid ? valid[w]! : 0xffffffff;
      if (v !== 0) all0 = false;
      if (v !== m) all1 = false;
      if (!all0 && !all1) return;
    }
    this.release(s);
    this.state[c] = all0 ? ALL_ZERO : ALL_ONE;
  }
}

/** A copy of bits [start, start + n) of `src` as a new bitmap of n bits. */
export function copyBitRange(src: ChunkedBitmap, start: number, n: number): ChunkedBitmap {
  if (start % CHUNK_BITS === 0) return src.copyAlignedRange(start / CHUNK_BITS, n);
  const out = new ChunkedBitmap(n);
  for (let i = 0; i < n; i++) if (src.get(start + i)) out.set(i);
  return out;
}
