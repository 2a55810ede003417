/** How maintenance orders hosts into waves: by host id, rack by rack, or spread across racks. */
export const DRAIN_ORDERS = ['host', 'rack', 'spread'] as const;
export type DrainOrder = (typeof DRAIN_ORDERS)[number];

/**
 * The maintenance waves of `hostIds` (each host once, each wave at most `waveSize` hosts), with host `h` in rack
 * `floor(h / hostsPerRack)`:
 *
 * - `host`: consecutive hosts in the order given.
 * - `rack`: rack by rack (racks in the order their first host appears). A rack larger than a wave is split into
 *   waves of its own hosts; when `waveSize > hostsPerRack` whole racks are packed into a wave while they fit, so a
 *   wave spans racks only then. With waves that align with racks this is the `host` order.
 * - `spread`: each wave takes hosts round-robin across the racks that still have hosts, starting at the rack after
 *   the one the previous wave took last, at most `ceil(waveSize / racks)` hosts of a rack per wave: with
 *   `waveSize ≤ racks` a wave never holds two hosts of one rack (it is smaller instead, once few racks are left).
 */
export function drainWaves(hostIds: readonly number[], waveSize: number, hostsPerRack: number, order: DrainOrder): number[][] {
  if (!(Number.isInteger(waveSize) && waveSize >= 1)) throw new RangeError(`waveSize must be a positive integer (got ${waveSize})`);
  if (!(Number.isInteger(hostsPerRack) && hostsPerRack >= 1)) throw new RangeError(`hostsPerRack must be a positive integer (got ${hostsPerRack})`);
  if (order === 'host') return chunks(hostIds, waveSize);
  const racks = byRack(hostIds, hostsPerRack);
  return order === 'rack' ? rackWaves(racks, waveSize, hostsPerRack) : spreadWaves(racks, waveSize);
}

function chunks(ids: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** The hosts of each rack, racks in the order their first host appears, hosts in the order given. */
function byRack(hostIds: readonly number[], hostsPerRack: number): number[][] {
  const racks = new Map<number, number[]>();
  for (const h of hostIds) {
    const r = Math.floor(h / hostsPerRack);
    const hosts = racks.get(r);
    if (hosts) hosts.push(h);
    else racks.set(r, [h]);
  }
  return [...racks.values()];
}

function rackWaves(racks: readonly number[][], waveSize: number, hostsPerRack: number): number[][] {
  if (waveSize <= hostsPerRack) return racks.flatMap((hosts) => chunks(hosts, waveSize));
  const out: number[][] = [];
  let wave: number[] = [];
  for (const hosts of racks) {
    if (wave.length + hosts.length > waveSize && wave.length > 0) {
      out.push(wave);
      wave = [];
    }
    wave.push(...hosts);
  }
  if (wave.length > 0) out.push(wave);
  return out;
}

function spreadWaves(racks: readonly number[][], waveSize: number): number[][] {
  const perRack = Math.ceil(waveSize / racks.length);
  const next = racks.map(() => 0);
  let left = racks.reduce((a, hosts) => a + hosts.length, 0);
  let at = 0;
  const out: number[][] = [];
  while (left > 0) {
    const wave: number[] = [];
    const taken = racks.map(() => 0);
    // Sweep the racks from `at`, one host per rack per sweep, until the wave is full or no rack can give more.
    for (let progress = true; progress && wave.length < waveSize; ) {
      progress = false;
      for (let k = 0; k < racks.length && wave.length < waveSize; k++) {
        const r = (at + k) % racks.length;
        if (next[r]! >= racks[r]!.length || taken[r]! >= perRack) continue;
        wave.push(racks[r]![next[r]!++]!);
        taken[r]!++;
        progress = true;
        if (wave.length === waveSize) at = (r + 1) % racks.length;
      }
    }
    left -= wave.length;
    out.push(wave);
  }
  return out;
}
