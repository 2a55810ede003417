import type { FairLink } from './max-min-fair.js';

/** The tier a link belongs to: metrics and charts label by tier, never by link id. */
export type LinkTier = 'nic' | 'uplink' | 'spine';

/** A link of the fabric, one direction: its capacity (bytes/s), tier, and whose it is. */
export interface FabricLink extends FairLink {
  readonly tier: LinkTier;
  readonly direction: 'up' | 'down';
  /** The host (NIC) or rack (uplink) it belongs to; -1 for the spine. */
  readonly owner: number;
}

export interface FabricSpec {
  /** NIC speed of each host, bytes/s (full duplex: as much up as down). */
  readonly hostNics: readonly number[];
  /** Hosts per rack, in host order (the last rack may hold fewer). */
  readonly hostsPerRack: number;
  /** Each rack's top-of-rack uplink, bytes/s each way; null: the rack is not limited above its NICs. */
  readonly torUplink: number | null;
  /** The spine every inter-rack flow crosses, bytes/s (one shared link, as SimGrid's backbone); null: none. */
  readonly spine: number | null;
}

/**
 * The cluster's network as links a migration's flow crosses: each host's NIC (up and down), each rack's
 * top-of-rack uplink (up and down), and an optional spine. A flow from src to dst goes up src's NIC, then, between
 * racks, up src's rack uplink, across the spine and down dst's rack uplink, then down dst's NIC; a flow inside a
 * rack stays below the uplink. Capacities here are the full links; tenant traffic is taken off by the caller.
 */
export class Fabric {
  readonly links: FabricLink[] = [];
  readonly racks: number;
  private readonly nicUp: Int32Array;
  private readonly nicDown: Int32Array;
  private readonly uplinkUp: Int32Array;
  private readonly uplinkDown: Int32Array;
  private readonly spine: number;

  constructor(readonly spec: FabricSpec) {
    const hosts = spec.hostNics.length;
    if (!(spec.hostsPerRack >= 1)) throw new RangeError('hostsPerRack must be at least 1');
    this.racks = Math.ceil(hosts / spec.hostsPerRack);
    this.nicUp = new Int32Array(hosts);
    this.nicDown = new Int32Array(hosts);
    spec.hostNics.forEach((nic, h) => {
      this.nicUp[h] = this.add({ capacity: nic, tier: 'nic', direction: 'up', owner: h });
      this.nicDown[h] = this.add({ capacity: nic, tier: 'nic', direction: 'down', owner: h });
    });
    this.uplinkUp = new Int32Array(this.racks).fill(-1);
    this.uplinkDown = new Int32Array(this.racks).fill(-1);
    if (spec.torUplink !== null) {
      for (let r = 0; r < this.racks; r++) {
        this.uplinkUp[r] = this.add({ capacity: spec.torUplink, tier: 'uplink', direction: 'up', owner: r });
        this.uplinkDown[r] = this.add({ capacity: spec.torUplink, tier: 'uplink', direction: 'down', owner: r });
      }
    }
    this.spine = spec.spine === null ? -1 : this.add({ capacity: spec.spine, tier: 'spine', direction: 'up', owner: -1 });
  }

  private add(link: FabricLink): number {
    this.links.push(link);
    return this.links.length - 1;
  }

  rackOf(host: number): number {
    return Math.floor(host / this.spec.hostsPerRack);
  }

  /** The links a flow from `src` to `dst` crosses, in order. */
  route(src: number, dst: number): number[] {
    const out = [this.nicUp[src]!];
    const rs = this.rackOf(src);
    const rd = this.rackOf(dst);
    if (rs !== rd) {
      if (this.uplinkUp[rs]! >= 0) out.push(this.uplinkUp[rs]!);
      if (this.spine >= 0) out.push(this.spine);
      if (this.uplinkDown[rd]! >= 0) out.push(this.uplinkDown[rd]!);
    }
    out.push(this.nicDown[dst]!);
    return out;
  }
}
