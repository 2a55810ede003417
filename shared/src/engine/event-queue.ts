/** One entry taken out of an {@link EventQueue}. */
export interface QueueEntry<T> {
  /** Simulated time (seconds) at which the entry is due. */
  readonly time: number;
  /** Priority: lower first among entries due at the same time. */
  readonly priority: number;
  /** Insertion number: lower first among entries with equal time and priority (FIFO). */
  readonly seq: number;
  readonly item: T;
}

const DEFAULT_CAPACITY = 1024;

/**
 * A binary min-heap of items keyed by `(time, priority, seq)`, compared lexicographically. `seq` is a counter the
 * queue hands out on every {@link EventQueue.push}, so entries with equal time and priority leave in insertion
 * order and the order of pops is a pure function of the sequence of pushes.
 *
 * The keys live in three parallel `Float64Array`s and the items in a plain array, so a push or pop allocates
 * nothing (except when the arrays grow, by doubling) and comparisons read numbers only. Sifting moves a "hole"
 * instead of swapping.
 */
export class EventQueue<T> {
  private times: Float64Array;
  private priorities: Float64Array;
  private seqs: Float64Array;
  private items: (T | undefined)[] = [];
  private count = 0;
  private nextSeq = 0;

  /** @param initialCapacity entries to reserve room for; the queue grows as needed. */
  constructor(initialCapacity: number = DEFAULT_CAPACITY) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new RangeError(`initialCapacity must be a positive integer, got ${initialCapacity}`);
    }
    this.times = new Float64Array(initialCapacity);
    this.priorities = new Float64Array(initialCapacity);
    this.seqs = new Float64Array(initialCapacity);
  }

  /** Number of entries in the queue. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds `item`, due at `time` (seconds) with `priority`.
   * @returns the entry's sequence number (0, 1, 2, ... in push order).
   * @throws RangeError if `time` is NaN, negative or infinite, or `priority` is not finite.
   */
  push(time: number, priority: number, item: T): number {
    if (!(time >= 0 && time < Infinity)) throw new RangeError(`event time must be finite and >= 0, got ${time}`);
    if (!Number.isFinite(priority)) throw new RangeError(`priority must be a finite number, got ${priority}`);
    const seq = this.nextSeq++;
    let i = this.count++;
    if (i === this.times.length) this.grow();
    const times = this.times;
    const priorities = this.priorities;
    const seqs = this.seqs;
    const items = this.items;
    // Sift up. The new entry has the largest seq, so on equal (time, priority) it stays below its parent.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time) break;
      const pp = priorities[parent]!;
      if (pt === time && pp <= priority) break;
      times[i] = pt;
      priorities[i] = pp;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent];
      i = parent;
    }
    times[i] = time;
    priorities[i] = priority;
    seqs[i] = seq;
    items[i] = item;
    return seq;
  }

  /** Time (seconds) of the first entry, or `Infinity` if the queue is empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : this.times[0]!;
  }

  /** Removes and returns the first entry, or `undefined` if the queue is empty. */
  pop(): QueueEntry<T> | undefined {
    if (this.count === 0) return undefined;
    const time = this.times[0]!;
    const priority = this.priorities[0]!;
    const seq = this.seqs[0]!;
    const item = this.popItem() as T;
    return { time, priority, seq, item };
  }

  /**
   * Removes the first entry and returns its item only (no allocation), or `undefined` if the queue is empty.
   * Read {@link EventQueue.peekTime} first if the time is needed.
   */
  popItem(): T | undefined {
    if (this.count === 0) return undefined;
    const items = this.items;
    const top = items[0];
    const n = --this.count;
    if (n > 0) {
      const times = this.times;
      const priorities = this.priorities;
      const seqs = this.seqs;
      // Move the last entry into the hole at the root and sift it down.
      const lt = times[n]!;
      const lp = priorities[n]!;
      const ls = seqs[n]!;
      const li = items[n];
      let i = 0;
      while (true) {
        let c = 2 * i + 1;
        if (c >= n) break;
        const r = c + 1;
        if (r < n && this.less(r, c)) c = r;
        const ct = times[c]!;
        const cp = priorities[c]!;
        // Stop when last <= child.
        if (lt < ct || (lt === ct && (lp < cp || (lp === cp && ls < seqs[c]!)))) break;
        times[i] = ct;
        priorities[i] = cp;
        seqs[i] = seqs[c]!;
        items[i] = items[c];
        i = c;
      }
      times[i] = lt;
      priorities[i] = lp;
      seqs[i] = ls;
      items[i] = li;
    }
    items[n] = undefined;
    return top;
  }

  /** Removes every entry. Sequence numbers keep counting up. */
  clear(): void {
    this.items.fill(undefined, 0, this.count);
    this.count = 0;
  }

  /** Whether the entry at heap index `a` comes before the one at `b`. */
  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    if (ta !== tb) return ta < tb;
    const pa = this.priorities[a]!;
    const pb = this.priorities[b]!;
    if (pa !== pb) return pa < pb;
    return this.seqs[a]! < this.seqs[b]!;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    times.set(this.times);
    this.times = times;
    const priorities = new Float64Array(capacity);
    priorities.set(this.priorities);
    this.priorities = priorities;
    const seqs = new Float64Array(capacity);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }
}
