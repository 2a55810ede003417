import type { Environment } from '../../engine/environment.js';
import type { Fabric } from './fabric.js';
import type { LinkUsage } from './link-usage.js';
import { maxMinFair, type FairFlow, type FairLink } from './max-min-fair.js';

/**
 * Priority of the recomputation of the shares: after everything else due at the same instant (completions go by
 * job serial after NORMAL), so flows started, ended or changed at one instant are shared out once.
 */
export const RECOMPUTE_PRIORITY = Number.MAX_SAFE_INTEGER;

/** What tenant traffic takes of each host NIC over time: a share at a time, and when it next changes. */
export interface TenantTraffic {
  shareAt(tS: number): number;
  nextChangeS(tS: number): number;
}

/** No tenant traffic. */
export const NO_TENANT_TRAFFIC: TenantTraffic = { shareAt: () => 0, nextChangeS: () => Infinity };

/** A flow over the fabric: its route, its cap (bytes/s; Infinity = none) and the rate it has now. */
export interface Flow {
  readonly route: readonly number[];
  demand: number;
  rate: number;
  /** Told the flow's new rate when it changes, with the time. */
  readonly onRate: (rate: number, nowS: number) => void;
  /** Its place among the active flows. */
  slot: number;
}

/**
 * The fabric's flows and their max-min fair rates (as SimGrid's network model shares a route's links among the
 * flows crossing them: `maxMinFair`), recomputed once per instant at which a flow starts, ends or changes its cap,
 * and when tenant traffic changes while flows run. Tenant traffic takes its share of every host NIC, both ways.
 * Flows whose rate changed are told, in the order they were added; each link's load goes to the {@link LinkUsage}.
 */
export class FlowNetwork {
  private readonly flows: Flow[] = [];
  private pending = false;
  private tenantWakeS = Infinity;
  private readonly compact: Int32Array;
  private readonly loadedLinks = new Set<number>();
  private recomputes = 0;

  constructor(
    private readonly fabric: Fabric,
    private readonly env: Environment,
    private readonly tenant: TenantTraffic = NO_TENANT_TRAFFIC,
    private readonly usage: LinkUsage | null = null,
  ) {
    this.compact = new Int32Array(fabric.links.length).fill(-1);
  }

  /** Flows active now. */
  get active(): number {
    return this.flows.length;
  }

  /** Times the shares were recomputed. */
  get recomputations(): number {
    return this.recomputes;
  }

  /** Starts a flow along `route` capped at `demand`; its rate is known once the shares are recomputed (this instant). */
  add(route: readonly number[], demand: number, onRate: (rate: number, nowS: number) => void): Flow {
    const flow: Flow = { route, demand, rate: 0, onRate, slot: this.flows.length };
    this.flows.push(flow);
    this.touch();
    return flow;
  }

  setDemand(flow: Flow, demand: number): void {
    if (flow.demand === demand) return;
    flow.demand = demand;
    this.touch();
  }

  remove(flow: Flow): void {
    this.flows.splice(flow.slot, 1);
    for (let i = flow.slot; i < this.flows.length; i++) this.flows[i]!.slot = i;
    flow.slot = -1;
    this.touch();
  }

  private touch(): void {
    if (this.pending) return;
    this.pending = true;
    this.env.callAt(this.env.now, () => this.recompute(), RECOMPUTE_PRIORITY);
  }

  /** The shares now: max-min fair rates of the active flows over the links they cross. */
  private recompute(): void {
    this.pending = false;
    this.recomputes++;
    const now = this.env.now;
    const links = this.fabric.links;
    const nicShare = 1 - this.tenant.shareAt(now);
    const fairLinks: FairLink[] = [];
    const used: number[] = [];
    const fairFlows: FairFlow[] = this.flows.map((f) => {
      const route = f.route.map((l) => {
        let c = this.compact[l]!;
        if (c < 0) {
          c = fairLinks.length;
          this.compact[l] = c;
          used.push(l);
          const link = links[l]!;
          fairLinks.push({ capacity: link.tier === 'nic' ? link.capacity * nicShare : link.capacity });
        }
        return c;
      });
      return { links: route, demand: f.demand };
    });
    const rates = maxMinFair(fairLinks, fairFlows);
    const load = new Float64Array(fairLinks.length);
    fairFlows.forEach((f, i) => {
      for (const c of f.links) load[c]! += rates[i]!;
    });
    if (this.usage !== null) {
      for (const l of this.loadedLinks) if (this.compact[l]! < 0) this.usage.set(l, 0, now);
      this.loadedLinks.clear();
      used.forEach((l, c) => {
        this.usage!.set(l, load[c]!, now);
        this.loadedLinks.add(l);
      });
    }
    for (const l of used) this.compact[l] = -1;
    // The flows are told in the order they were added.
    const changed = this.flows.filter((f, i) => f.rate !== rates[i]).map((f) => [f, rates[f.slot]!] as const);
    for (const [f, rate] of changed) f.rate = rate;
    this.wakeForTenant(now);
    for (const [f, rate] of changed) f.onRate(rate, now);
  }

  /** While flows run, the shares are recomputed when tenant traffic next changes. */
  private wakeForTenant(now: number): void {
    if (this.flows.length === 0) return;
    const next = this.tenant.nextChangeS(now);
    if (next === Infinity || next === this.tenantWakeS) return;
    this.tenantWakeS = next;
    this.env.callAt(next, () => {
      if (this.tenantWakeS !== next) return;
      this.tenantWakeS = Infinity;
      if (this.flows.length > 0) this.touch();
    });
  }
}
