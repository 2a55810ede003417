/** A link of the fabric: its capacity in bytes per second (in one direction; a full-duplex NIC is two links). */
export interface FairLink {
  readonly capacity: number;
}

/** A flow: the links it crosses (indexes into the links) and its own cap (QEMU max-bandwidth), bytes/s; Infinity = none. */
export interface FairFlow {
  readonly links: readonly number[];
  readonly demand: number;
}

/**
 * Max-min fair rates of flows over shared links, by progressive filling (water-filling), as SimGrid shares a
 * route's links among the flows crossing them (Bertsekas & Gallager, "Data Networks", §6.5): all flows grow at the
 * same pace; a flow stops growing when it reaches its own demand or when a link it crosses is full, and the
 * others go on. The result: no flow can get more without taking from a flow that has no more. Returns the rate of
 * each flow, bytes/s, in the flows' order. Deterministic: ties are resolved by the same arithmetic whatever the
 * order of equal links.
 */
export function maxMinFair(links: readonly FairLink[], flows: readonly FairFlow[]): Float64Array {
  const capacity = new Float64Array(links.length);
  for (let l = 0; l < links.length; l++) capacity[l] = links[l]!.capacity;
  const start = new Int32Array(flows.length + 1);
  let k = 0;
  for (let i = 0; i < flows.length; i++) {
    start[i] = k;
    k += flows[i]!.links.length;
  }
  start[flows.length] = k;
  const route = new Int32Array(k);
  const demand = new Float64Array(flows.length);
  for (let i = 0; i < flows.length; i++) {
    route.set(flows[i]!.links, start[i]!);
    demand[i] = flows[i]!.demand;
  }
  return new MaxMinFair().solve(links.length, capacity, flows.length, start, route, demand).slice(0, flows.length);
}

/** Grows a typed array to hold `n`, keeping nothing (the solver fills it afresh). */
function room<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number, make: (n: number) => T): T {
  return a.length >= n ? a : make(Math.max(n, 2 * a.length));
}

/**
 * The solver of {@link maxMinFair} on flat arrays, its work arrays kept from one call to the next (the fabric
 * recomputes the shares at every instant a flow changes). Flow i crosses links `route[start[i] .. start[i+1])`;
 * links are `0 .. links-1`. The arithmetic is {@link maxMinFair}'s, operation for operation.
 */
export class MaxMinFair {
  private rate = new Float64Array(64);
  private frozen = new Uint8Array(64);
  private remaining = new Float64Array(64);
  private fullAt = new Float64Array(64);
  private active = new Int32Array(64);

  /** The rates, bytes/s, in `[0, flows)` of the array returned (valid until the next call). */
  solve(links: number, capacity: Float64Array, flows: number, start: Int32Array, route: Int32Array, demand: Float64Array): Float64Array {
    const n = flows;
    const rate = (this.rate = room(this.rate, n, (m) => new Float64Array(m)));
    const frozen = (this.frozen = room(this.frozen, n, (m) => new Uint8Array(m)));
    const remaining = (this.remaining = room(this.remaining, links, (m) => new Float64Array(m)));
    const fullAt = (this.fullAt = room(this.fullAt, links, (m) => new Float64Array(m)));
    const active = (this.active = room(this.active, links, (m) => new Int32Array(m)));
    const EPS = 1e-12;
    rate.fill(0, 0, n);
    frozen.fill(0, 0, n);
    active.fill(0, 0, links);
    for (let l = 0; l < links; l++) {
      remaining[l] = capacity[l]!;
      // A link is full when what remains is at most this.
      fullAt[l] = EPS * Math.max(1, capacity[l]!);
    }
    for (let k = 0; k < start[n]!; k++) active[route[k]!]!++;
    let left = n;
    // A flow that crosses no link and has no cap would grow forever: its rate is its demand (Infinity).
    for (let i = 0; i < n; i++) {
      if (start[i + 1] === start[i]) {
        rate[i] = demand[i]!;
        frozen[i] = 1;
        left--;
      }
    }
    while (left > 0) {
      // The largest equal increment every unfrozen flow can take: the tightest link share or the smallest demand left.
      let step = Infinity;
      for (let l = 0; l < links; l++) if (active[l]! > 0) step = Math.min(step, remaining[l]! / active[l]!);
      for (let i = 0; i < n; i++) if (!frozen[i]) step = Math.min(step, demand[i]! - rate[i]!);
      if (!Number.isFinite(step)) {
        for (let i = 0; i < n; i++) if (!frozen[i]) rate[i] = Infinity;
        break;
      }
      for (let i = 0; i < n; i++) {
        if (frozen[i]) continue;
        rate[i]! += step;
        for (let k = start[i]!, end = start[i + 1]!; k < end; k++) remaining[route[k]!]! -= step;
      }
      // Freeze the flows on full links and those at their demand.
      for (let i = 0; i < n; i++) {
        if (frozen[i]) continue;
        const d = demand[i]!;
        const end = start[i + 1]!;
        let freeze = d - rate[i]! <= EPS * Math.max(1, d === Infinity ? 1 : d);
        for (let k = start[i]!; !freeze && k < end; k++) freeze = remaining[route[k]!]! <= fullAt[route[k]!]!;
        if (freeze) {
          frozen[i] = 1;
          left--;
          for (let k = start[i]!; k < end; k++) active[route[k]!]!--;
        }
      }
    }
    return rate;
  }
}
