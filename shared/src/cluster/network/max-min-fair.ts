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
  const n = flows.length;
  const rate = new Float64Array(n);
  const frozen = new Uint8Array(n);
  const remaining = links.map((l) => l.capacity);
  const active = new Int32Array(links.length);
  for (const f of flows) for (const l of f.links) active[l]!++;
  let left = n;
  // A flow that crosses no link and has no cap would grow forever: its rate is its demand (Infinity).
  for (let i = 0; i < n; i++) {
    if (flows[i]!.links.length === 0) {
      rate[i] = flows[i]!.demand;
      frozen[i] = 1;
      left--;
    }
  }
  const EPS = 1e-12;
  while (left > 0) {
    // The largest equal increment every unfrozen flow can take: the tightest link share or the smallest demand left.
    let step = Infinity;
    for (let l = 0; l < links.length; l++) if (active[l]! > 0) step = Math.min(step, remaining[l]! / active[l]!);
    for (let i = 0; i < n; i++) if (!frozen[i]) step = Math.min(step, flows[i]!.demand - rate[i]!);
    if (!Number.isFinite(step)) {
      for (let i = 0; i < n; i++) if (!frozen[i]) rate[i] = Infinity;
      break;
    }
    for (let i = 0; i < n; i++) {
      if (frozen[i]) continue;
      rate[i]! += step;
      for (const l of flows[i]!.links) remaining[l]! -= step;
    }
    // Freeze the flows on full links and those at their demand.
    const full = (l: number) => remaining[l]! <= EPS * Math.max(1, links[l]!.capacity);
    for (let i = 0; i < n; i++) {
      if (frozen[i]) continue;
      const f = flows[i]!;
      if (f.demand - rate[i]! <= EPS * Math.max(1, f.demand === Infinity ? 1 : f.demand) || f.links.some(full)) {
        frozen[i] = 1;
        left--;
        for (const l of f.links) active[l]!--;
      }
    }
  }
  return rate;
}
