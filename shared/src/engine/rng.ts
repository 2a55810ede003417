/**
 * Seeded pseudo-random numbers for the simulation: xoshiro128** (Blackman & Vigna) in 32-bit integer arithmetic
 * (`Math.imul`, shifts; no BigInt, no floating point until a float is asked for), its state filled through
 * splitmix32, plus stateless integer hashing (murmur3's 32-bit block mix and `fmix32` finaliser).
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const GOLDEN_GAMMA = 0x9e3779b9;

/** Murmur3 seeds that make the four words of a seed key independent hashes of the same input. */
const SEED_KEY_SEEDS = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344] as const;
/** Different seeds for keys derived by {@link Rng.fork}, so a fork never equals a `fromSeed` stream by design. */
const FORK_KEY_SEEDS = [0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89] as const;
const HASH_SEED = 0x452821e6;
const TAG_NUMBER = 1;
const TAG_STRING = 2;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Murmur3's 32-bit finaliser: a bijection on 32-bit integers with full avalanche. Returns an unsigned value. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Murmur3's body step: mixes the 32-bit word `k` into the running hash `h` (bijective in `k` and in `h`). */
function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = rotl(k, 15);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = rotl(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Murmur3-32 over a list of 32-bit words. */
function hashWords(words: readonly number[], seed: number): number {
  let h = seed | 0;
  for (const word of words) h = mixWord(h, word);
  return fmix32(h ^ (words.length * 4));
}

/** Appends a safe integer as two 32-bit words (low, high). */
function pushInteger(words: number[], x: number): void {
  if (!Number.isSafeInteger(x)) throw new RangeError(`expected a safe integer, got ${x}`);
  words.push(x >>> 0, Math.floor(x / TWO_POW_32) | 0);
}

/** Appends a string as its length and its UTF-16 code units packed two per word (exact, so no two strings collide). */
function pushString(words: number[], s: string): void {
  words.push(s.length);
  for (let i = 0; i < s.length; i += 2) {
    words.push(s.charCodeAt(i) | (i + 1 < s.length ? s.charCodeAt(i + 1) << 16 : 0));
  }
}

function deriveKey(words: readonly number[], seeds: readonly number[]): Uint32Array {
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) key[i] = hashWords(words, seeds[i]!);
  return key;
}

/** splitmix32's output function applied to `x + (i + 1) * golden gamma`: a bijection of `x` for each `i`. */
function splitmix32(x: number, i: number): number {
  let z = (x + Math.imul(i + 1, GOLDEN_GAMMA)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * A 32-bit integer hash of any number of safe integers (murmur3's block mix over each part's low and high 32-bit
 * words, then `fmix32`). For a single part in `[0, 2^32)` it is a bijection, so distinct indices never collide.
 * Use it for stateless, reproducible per-item decisions.
 * @returns an unsigned 32-bit integer.
 * @throws RangeError if a part is not a safe integer.
 */
export function hash32(...parts: number[]): number {
  let h = HASH_SEED;
  for (const x of parts) {
    let lo: number;
    let hi: number;
    if (x >>> 0 === x) {
      lo = x;
      hi = 0;
    } else {
      if (!Number.isSafeInteger(x)) throw new RangeError(`hash32 parts must be safe integers, got ${x}`);
      lo = x >>> 0;
      hi = Math.floor(x / TWO_POW_32) | 0;
    }
    h = mixWord(h, lo);
    h = mixWord(h, hi);
  }
  return fmix32(h ^ (parts.length * 8));
}

/**
 * {@link hash32} scaled to a number in `[0, 1)` (a multiple of 2^-32), e.g. for "is region `i` backed by a
 * transparent huge page": `unitHash(seed, i) < thpFraction`.
 */
export function unitHash(...parts: number[]): number {
  return hash32(...parts) / TWO_POW_32;
}

/**
 * A seeded pseudo-random number generator (xoshiro128**, period 2^128 - 1).
 *
 * Every generator has immutable *seed material* (a 128-bit key derived from the seed); its stream is a function of
 * the key only. {@link Rng.fork} derives a child key from the parent's key and a label, so a child stream does not
 * depend on how many numbers the parent has drawn, and forking twice with the same label gives the same stream.
 */
export class Rng {
  private readonly key: Uint32Array;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(key: Uint32Array) {
    this.key = key;
    this.s0 = splitmix32(key[0]!, 0) | 0;
    this.s1 = splitmix32(key[1]!, 1) | 0;
    this.s2 = splitmix32(key[2]!, 2) | 0;
    this.s3 = splitmix32(key[3]!, 3) | 0;
    // xoshiro's only forbidden state; splitmix32 is a bijection, so exactly one key maps to it.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = GOLDEN_GAMMA | 0;
  }

  /**
   * A generator seeded with a safe integer or a string. Equal seeds give equal streams; the number 1 and the
   * string "1" are different seeds.
   * @throws RangeError if a numeric seed is not a safe integer.
   */
  static fromSeed(seed: number | string): Rng {
    const words: number[] = [];
    if (typeof seed === 'number') {
      words.push(TAG_NUMBER);
      pushInteger(words, seed);
    } else {
      words.push(TAG_STRING);
      pushString(words, seed);
    }
    return new Rng(deriveKey(words, SEED_KEY_SEEDS));
  }

  /**
   * A child generator for the sub-stream named `label`, derived only from this generator's seed material and the
   * label: it is the same whenever and however often it is created, whatever has been drawn from this generator.
   */
  fork(label: string): Rng {
    const words: number[] = [this.key[0]!, this.key[1]!, this.key[2]!, this.key[3]!];
    pushString(words, label);
    return new Rng(deriveKey(words, FORK_KEY_SEEDS));
  }

  /** The next 32 random bits, as an unsigned integer in `[0, 2^32)`. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    this.s0 = s0 ^ s3;
    this.s1 = s1 ^ s2;
    this.s2 = s2 ^ (s1 << 9);
    this.s3 = rotl(s3, 11);
    return result;
  }

  /** A uniform float in `[0, 1)` with 53 random bits (two draws). */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /**
   * A uniform integer in `[0, n)`, without bias (rejection sampling: one draw usually; two per try when
   * `n > 2^32`).
   * @throws RangeError if `n` is not a safe integer >= 1.
   */
  nextInt(n: number): number {
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new RangeError(`nextInt bound must be a safe integer >= 1, got ${n}`);
    if (n <= TWO_POW_32) {
      // Reject the lowest 2^32 mod n values so that every residue is equally likely.
      const threshold = (TWO_POW_32 - n) % n;
      let r = this.nextU32();
      while (r < threshold) r = this.nextU32();
      return r % n;
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    let x: number;
    do {
      x = (this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6);
    } while (x >= limit);
    return x % n;
  }

  /**
   * `true` with probability `p` (to within 2^-32; one draw). `p = 0` is never true, `p = 1` always.
   * @throws RangeError if `p` is not in `[0, 1]`.
   */
  bernoulli(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli probability must be in [0, 1], got ${p}`);
    return this.nextU32() < p * TWO_POW_32;
  }

  /**
   * An exponentially distributed number with mean `mean` (by inversion: `-mean * ln(1 - u)`).
   * @throws RangeError if `mean` is negative or not finite.
   */
  exponential(mean: number): number {
    if (!(mean >= 0 && mean < Infinity)) throw new RangeError(`exponential mean must be finite and >= 0, got ${mean}`);
    return -mean * Math.log1p(-this.nextFloat());
  }

  /**
   * The number of failures before the first success in Bernoulli(`p`) trials (mean `(1 - p) / p`), by inversion:
   * `floor(ln(1 - u) / ln(1 - p))`, one float draw whatever the result.
   * @throws RangeError if `p` is not in `(0, 1]`.
   */
  geometric(p: number): number {
    if (!(p > 0 && p <= 1)) throw new RangeError(`geometric probability must be in (0, 1], got ${p}`);
    const u = this.nextFloat();
    if (p === 1) return 0;
    return Math.floor(Math.log1p(-u) / Math.log1p(-p)) + 0;
  }
}
