import type { Environment } from '../../engine/environment.js';
import type { Fabric } from './fabric.js';
import type { LinkUsage } from './link-usage.js';
import { MaxMinFair } from './max-min-fair.js';

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
  private recomputes = 0;
  /** Per fabric link: its number among the links the active flows cross, during a recomputation; -1 otherwise. */
  private readonly compact: Int32Array;
  /** The recomputation's work arrays: per numbered link its fabric link, capacity and load. */
  private readonly used: Int32Array;
  private readonly capacity: Float64Array;
  private readonly load: Float64Array;
  /** Per flow: where its route starts in `route` (numbered links), and its cap. */
  private start = new Int32Array(64);
  private route = new Int32Array(256);
  private demand = new Float64Array(64);
  private readonly solver = new MaxMinFair();
  private readonly changed: Flow[] = [];
  /** The fabric links loaded at the last recomputation, in the order they were numbered. */
  private readonly loaded: Int32Array;
  private nLoaded = 0;

  constructor(
    private readonly fabric: Fabric,
    private readonly env: Environment,
    private readonly tenant: TenantTraffic = NO_TENANT_TRAFFIC,
    private readonly usage: LinkUsage | null = null,
  ) {
    const links = fabric.links.length;
    this.compact = new Int32Array(links).fill(-1);
    this.used = new Int32Array(links);
    this.capacity = new Float64Array(links);
    this.load = new Float64Array(links);
    this.loaded = new Int32Array(links);
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

  /**
   * The shares now: max-min fair rates of the active flows over the links they cross (`maxMinFair`, on flat arrays
   * kept from one recomputation to the next: the links numbered in the order the flows first cross them).
   */
  private recompute(): void {
    this.pending = false;
    this.recomputes++;
    const now = this.env.now;
    const links = this.fabric.links;
    const nicShare = 1 - this.tenant.shareAt(now);
    const flows = this.flows;
    const n = flows.length;
    const compact = this.compact;
    const used = this.used;
    const capacity = this.capacity;
    if (this.start.length < n + 1) this.start = new Int32Array(Math.max(n + 1, 2 * this.start.length));
    if (this.demand.length < n) this.demand = new Float64Array(Math.max(n, 2 * this.demand.length));
    const start = this.start;
    const demand = this.demand;
    let hops = 0;
    for (let i = 0; i < n; i++) hops += flows[i]!.route.length;
    if (this.route.length < hops) this.route = new Int32Array(Math.max(hops, 2 * this.route.length));
    const route = this.route;
    let nUsed = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const f = flows[i]!;
      start[i] = k;
      demand[i] = f.demand;
      const r = f.route;
      for (let j = 0; j < r.length; j++) {
        const l = r[j]!;
        let c = compact[l]!;
        if (c < 0) {
          c = nUsed++;
          compact[l] = c;
          used[c] = l;
          const link = links[l]!;
          capacity[c] = link.tier === 'nic' ? link.capacity * nicShare : link.capacity;
        }
        route[k++] = c;
      }
    }
    start[n] = k;
    const rates = this.solver.solve(nUsed, capacity, n, start, route, demand);
    const load = this.load;
    load.fill(0, 0, nUsed);
    for (let i = 0; i < n; i++) {
      const rate = rates[i]!;
      for (let j = start[i]!, end = start[i + 1]!; j < end; j++) load[route[j]!]! += rate;
    }
    if (this.usage !== null) {
      // Links loaded at the last recomputation and not now carry nothing from now on.
      const loaded = this.loaded;
      for (let j = 0; j < this.nLoaded; j++) if (compact[loaded[j]!]! < 0) this.usage.set(loaded[j]!, 0, now);
      for (let c = 0; c < nUsed; c++) {
        this.usage.set(used[c]!, load[c]!, now);
        loaded[c] = used[c]!;
      }
      this.nLoaded = nUsed;
    }
    for (let c = 0; c < nUsed; c++) compact[used[c]!] = -1;
    // The flows are told in the order they were added, once every flow has its new rate.
    const changed = this.changed;
    changed.length = 0;
    for (let i = 0; i < n; i++) {
      const f = flows[i]!;
      if (f.rate !== rates[i]) {
        f.rate = rates[i]!;
        changed.push(f);
      }
    }
    this.wakeForTenant(now);
    for (let j = 0; j < changed.length; j++) {
      const f = changed[j]!;
      f.onRate(f.rate, now);
    }
    changed.length = 0;
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
