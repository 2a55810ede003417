import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MaxMinFair, maxMinFair, type FairFlow, type FairLink } from '../../../../shared/src/cluster/network/max-min-fair.js';

/** The water-filling as it was written before the flat solver (objects and closures): the solver must give its bits. */
function reference(links: readonly FairLink[], flows: readonly FairFlow[]): Float64Array {
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

const problem = fc
  .integer({ min: 1, max: 12 })
  .chain((links) =>
    fc.record({
      links: fc.array(fc.oneof(fc.double({ min: 1e6, max: 5e10, noNaN: true }), fc.integer({ min: 1, max: 4 }).map((k) => k * 1.25e9)), { minLength: links, maxLength: links }),
      flows: fc.array(
        fc.record({
          links: fc.uniqueArray(fc.integer({ min: 0, max: links - 1 }), { maxLength: 4 }),
          demand: fc.oneof(fc.constant(Infinity), fc.double({ min: 1e5, max: 3e10, noNaN: true }), fc.integer({ min: 1, max: 8 }).map((k) => k * 0.5e9)),
        }),
        { maxLength: 40 },
      ),
    }),
  );

describe('MaxMinFair: the flat solver the fabric keeps', () => {
  it('property: gives the rates of the reference water-filling bit for bit, its work arrays reused across calls of any size', () => {
    const solver = new MaxMinFair();
    fc.assert(
      fc.property(problem, (p) => {
        const links: FairLink[] = p.links.map((capacity) => ({ capacity }));
        const flows: FairFlow[] = p.flows;
        const want = reference(links, flows);
        expect([...maxMinFair(links, flows)]).toEqual([...want]);
        const start = new Int32Array(flows.length + 1);
        const route: number[] = [];
        flows.forEach((f, i) => {
          start[i] = route.length;
          route.push(...f.links);
        });
        start[flows.length] = route.length;
        const got = solver.solve(links.length, Float64Array.from(p.links), flows.length, start, Int32Array.from(route), Float64Array.from(flows.map((f) => f.demand)));
        expect([...got.subarray(0, flows.length)]).toEqual([...want]);
      }),
      { numRuns: 400 },
    );
  });
});
