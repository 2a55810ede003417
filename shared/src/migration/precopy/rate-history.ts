/**
 * The rate a migration's flow got over time, piecewise constant: from `times[i]` on (seconds after the job's start)
 * the flow ran at `rates[i]` bytes/s, until the next point; the last rate holds on. Before the first point the rate
 * is 0. The coordinator writes it as the fabric's max-min shares change (`FlowNetwork`); the worker reads it back
 * to replay the job, and both compute a transfer's end with the same arithmetic ({@link RateHistory.endOf}), so
 * the worker's replay ends where the coordinator's run did.
 */
export class RateHistory {
  private readonly times: number[] = [];
  private readonly rates: number[] = [];

  /** A history from its flat form `[t0, r0, t1, r1, …]` (as a job carries it). */
  static fromFlat(flat: readonly number[]): RateHistory {
    const h = new RateHistory();
    for (let i = 0; i + 1 < flat.length; i += 2) h.push(flat[i]!, flat[i + 1]!);
    return h;
  }

  get points(): number {
    return this.times.length;
  }

  /** The flat form `[t0, r0, t1, r1, …]`. */
  toFlat(): number[] {
    const out = new Array<number>(this.times.length * 2);
    for (let i = 0; i < this.times.length; i++) {
      out[2 * i] = this.times[i]!;
      out[2 * i + 1] = this.rates[i]!;
    }
    return out;
  }

  /**
   * From `tS` on the rate is `rate`. Times never go back: a time before the last point is taken as the last point's
   * (the rate there is replaced); a rate equal to the last one adds nothing.
   */
  push(tS: number, rate: number): void {
    const n = this.times.length;
    if (n > 0) {
      const last = this.times[n - 1]!;
      if (tS <= last) {
        this.rates[n - 1] = rate;
        if (n > 1 && this.rates[n - 2] === rate) {
          this.times.pop();
          this.rates.pop();
        }
        return;
      }
      if (this.rates[n - 1] === rate) return;
    }
    this.times.push(tS);
    this.rates.push(rate);
  }

  /** The last point at or before `tS`, or -1. */
  private segmentAt(tS: number): number {
    let lo = 0;
    let hi = this.times.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! <= tS) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** When `bytes` sent from `startS` on are through, s; Infinity if the rate never lets them through. */
  endOf(startS: number, bytes: number): number {
    if (!(bytes > 0)) return startS;
    const n = this.times.length;
    let i = this.segmentAt(startS);
    let t = startS;
    if (i < 0) {
      if (n === 0) return Infinity;
      i = 0;
      t = this.times[0]!;
    }
    let left = bytes;
    for (;;) {
      const r = this.rates[i]!;
      const next = i + 1 < n ? this.times[i + 1]! : Infinity;
      if (r > 0) {
        const end = t + left / r;
        if (end <= next) return end;
        left -= r * (next - t);
      }
      if (next === Infinity) return Infinity;
      t = next;
      i++;
    }
  }

  /** Bytes sent from `startS` until `atS` (≥ startS). */
  sentBy(startS: number, atS: number): number {
    const n = this.times.length;
    let i = this.segmentAt(startS);
    let t = startS;
    if (i < 0) {
      if (n === 0) return 0;
      i = 0;
      t = this.times[0]!;
    }
    let sent = 0;
    while (t < atS) {
      const next = i + 1 < n ? Math.min(this.times[i + 1]!, atS) : atS;
      sent += this.rates[i]! * (next - t);
      t = next;
      i++;
    }
    return sent;
  }
}
