import { unitHash } from '../../engine/rng.js';
import { backingPageLevel, type BackingSource } from './backing-source.js';
import { PG_LEVEL_2M, PG_LEVEL_4K, type Gfn } from './pg-level.js';

const POPULATED = 1;
const HOST_SPLIT = 2;
/** Salt of the per-region THP decision, so it does not correlate with other per-region draws. */
const THP_SALT = 0x54485021;

/**
 * The host side of guest memory: which page size backs each 2 MiB region (`host_pfn_mapping_level`), whether the
 * host has allocated it yet, and whether the host split a transparent huge page since it was mapped. THP coverage is
 * decided per region by a seeded hash, so it costs no memory and is the same in every run with the same seed.
 */
export class HostBacking {
  private readonly flags: Uint8Array;
  private readonly maxLevel: 1 | 2 | 3;

  constructor(
    readonly source: BackingSource,
    nGfns: number,
    /** Fraction of 2 MiB regions the host backs with a THP (anonymous_thp only). */
    readonly thpCoverage: number,
    readonly seed: number,
  ) {
    this.flags = new Uint8Array(Math.ceil(nGfns / 512));
    this.maxLevel = backingPageLevel(source);
  }

  /** Level of the host mapping of `gfn`'s backing page: 4K, 2M or 1G. */
  hostMappingLevel(gfn: Gfn): 1 | 2 | 3 {
    if (this.maxLevel === PG_LEVEL_4K) return PG_LEVEL_4K;
    const region = gfn >>> 9;
    if (this.flags[region]! & HOST_SPLIT) return PG_LEVEL_4K;
    if (this.source === 'anonymous_thp') {
      return unitHash(this.seed, THP_SALT, region) < this.thpCoverage ? PG_LEVEL_2M : PG_LEVEL_4K;
    }
    return this.maxLevel;
  }

  isPopulated(region: number): boolean {
    // region < 2^22: gfns stay below 2^31.
    return (this.flags[region]! & POPULATED) !== 0;
  }

  markPopulated(region: number): void {
    this.flags[region]! |= POPULATED;
  }

  /** The host split the huge page backing `region` (e.g. a THP split): it can only be mapped at 4K from now on. */
  markThpSplit(region: number): void {
    this.flags[region]! |= HOST_SPLIT;
  }

  isHostSplit(region: number): boolean {
    return (this.flags[region]! & HOST_SPLIT) !== 0;
  }

  clone(): HostBacking {
    const c = new HostBacking(this.source, 0, this.thpCoverage, this.seed);
    (c as unknown as { flags: Uint8Array }).flags = this.flags.slice();
    return c;
  }

  get byteLength(): number {
    return this.flags.byteLength;
  }
}
