import type { NetworkUsage, TierUsage } from '../fleet/fleet-run-result.js';
import type { Fabric, LinkTier } from './fabric.js';

/** The finest bin the usage is kept in, s; coarser bins are merged from these at the end. */
export const USAGE_BASE_BIN_S = 60;
/** At most this many bins in the series a run reports. */
export const USAGE_MAX_BINS = 400;

const TIERS: readonly LinkTier[] = ['nic', 'uplink', 'spine'];

/**
 * The bytes each link of the fabric carried, in time bins: a link's load (bytes/s, the sum of its flows' rates) is
 * set whenever the fabric's shares change, and what it carried since the last change is spread over the bins.
 * Only bins in which something was carried are kept.
 */
export class LinkUsage {
  private readonly load: Float64Array;
  private readonly since: Float64Array;
  private readonly bins = new Map<number, Float64Array>();
  /** The bin `carry` wrote last, and its number: a link's next change is mostly in the same bin. */
  private lastBinArray: Float64Array | null = null;
  private lastBinIndex = -1;
  /** Per link: it carries something now; and how many do. */
  private readonly loaded: Uint8Array;
  private loadedCount = 0;
  private lastBin = -1;
  /** Per link: its tier's place in `tiers`. */
  private readonly tierOf: Uint8Array;
  /** The tiers in the order of their first link, with the load now and the capacity of all their links, bytes/s. */
  private readonly tiers: LinkTier[] = [];
  private readonly tierLoad: Float64Array;
  private readonly tierCapacity: Float64Array;

  constructor(private readonly fabric: Fabric) {
    const links = fabric.links;
    this.load = new Float64Array(links.length);
    this.since = new Float64Array(links.length);
    this.loaded = new Uint8Array(links.length);
    this.tierOf = new Uint8Array(links.length);
    this.tierLoad = new Float64Array(TIERS.length);
    this.tierCapacity = new Float64Array(TIERS.length);
    for (let l = 0; l < links.length; l++) {
      const tier = links[l]!.tier;
      let t = this.tiers.indexOf(tier);
      if (t < 0) t = this.tiers.push(tier) - 1;
      this.tierOf[l] = t;
      this.tierCapacity[t] = this.tierCapacity[t]! + links[l]!.capacity;
    }
  }

  /** Each tier's mean utilisation now: its links' load over their capacity (for the live gauges). */
  utilisationNow(): Partial<Record<LinkTier, number>> {
    const out: Partial<Record<LinkTier, number>> = {};
    for (let t = 0; t < this.tiers.length; t++) out[this.tiers[t]!] = Math.max(0, this.tierLoad[t]!) / this.tierCapacity[t]!;
    return out;
  }

  /** Links carrying something now. */
  get linksLoaded(): number {
    return this.loadedCount;
  }

  /** From `nowS` on, `link` carries `bytesPerS`. */
  set(link: number, bytesPerS: number, nowS: number): void {
    this.carry(link, nowS);
    const t = this.tierOf[link]!;
    this.tierLoad[t] = this.tierLoad[t]! + bytesPerS - this.load[link]!;
    this.load[link] = bytesPerS;
    const on = bytesPerS > 0 ? 1 : 0;
    this.loadedCount += on - this.loaded[link]!;
    this.loaded[link] = on;
  }

  /** What `link` carried from its last change until `nowS`, into the bins. */
  private carry(link: number, nowS: number): void {
    const rate = this.load[link]!;
    let t = this.since[link]!;
    this.since[link] = nowS;
    if (!(rate > 0) || !(nowS > t)) return;
    while (t < nowS) {
      const b = Math.floor(t / USAGE_BASE_BIN_S);
      const end = Math.min(nowS, (b + 1) * USAGE_BASE_BIN_S);
      let bin = b === this.lastBinIndex ? this.lastBinArray : this.bins.get(b);
      if (bin === undefined || bin === null) {
        bin = new Float64Array(this.load.length);
        this.bins.set(b, bin);
      }
      this.lastBinIndex = b;
      this.lastBinArray = bin;
      bin[link]! += rate * (end - t);
      if (b > this.lastBin) this.lastBin = b;
      t = end;
    }
  }

  /** The utilisation by tier up to `endS`, in at most {@link USAGE_MAX_BINS} bins; null when nothing was carried. */
  finish(endS: number, hostsPerRack: number): NetworkUsage | null {
    for (let link = 0; link < this.loaded.length; link++) if (this.loaded[link] === 1) this.carry(link, endS);
    if (this.bins.size === 0) return null;
    const baseBins = this.lastBin + 1;
    const merge = Math.max(1, Math.ceil(baseBins / USAGE_MAX_BINS));
    const binS = USAGE_BASE_BIN_S * merge;
    const n = Math.ceil(baseBins / merge);
    const links = this.fabric.links;
    const tiers: TierUsage[] = [];
    for (const tier of TIERS) {
      const ids = links.flatMap((l, i) => (l.tier === tier ? [i] : []));
      if (ids.length === 0) continue;
      const mean = new Array<number>(n).fill(0);
      const max = new Array<number>(n).fill(0);
      const capacity = Math.max(...ids.map((i) => links[i]!.capacity));
      const totalCapacity = ids.reduce((a, i) => a + links[i]!.capacity, 0);
      for (let k = 0; k < n; k++) {
        let sum = 0;
        let peak = 0;
        for (const i of ids) {
          let bytes = 0;
          for (let b = k * merge; b < (k + 1) * merge; b++) bytes += this.bins.get(b)?.[i] ?? 0;
          sum += bytes;
          peak = Math.max(peak, bytes / (links[i]!.capacity * binS));
        }
        mean[k] = sum / (totalCapacity * binS);
        max[k] = peak;
      }
      tiers.push({ tier, links: ids.length, capacityBytesPerS: capacity, meanUtil: mean, maxUtil: max });
    }
    return { binS, racks: this.fabric.racks, hostsPerRack, tiers };
  }
}
