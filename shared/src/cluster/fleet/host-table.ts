import type { ResolvedPolicy } from '../policy/resolve-migration-policy.js';
import type { Fleet, Vm } from './build-fleet.js';
import { CapacityIndex, INELIGIBLE } from './capacity-index.js';

/**
 * Where a host is in maintenance: `up` (runs VMs, may receive migrations), `draining` (being evacuated),
 * `upgrading` (out for its upgrade after its wave) or `failed` (lost with its VMs for the rest of the run).
 */
export type HostState = 'up' | 'draining' | 'upgrading' | 'failed';

/** Limits beyond the uniform per-host ones of {@link HostTable}'s constructor (see {@link hostLimitsFrom}). */
export interface HostLimits {
  /** Concurrent outbound migrations of each host (Infinity: no limit), in place of `maxOutbound`. */
  readonly outbound?: readonly number[];
  /** Concurrent inbound migrations of each host (Infinity: no limit), in place of `maxInbound`. */
  readonly inbound?: readonly number[];
  /** Concurrent migrations in the whole cluster; null: no limit. */
  readonly maxPerCluster?: number | null;
}

/** A resolved migration policy's limits for the fleet's hosts (each by its NIC: vSphere's depend on it). */
export function hostLimitsFrom(policy: ResolvedPolicy, fleet: Fleet): HostLimits {
  return {
    outbound: fleet.hosts.map((h) => policy.outboundLimit(h.nicBytesPerS) ?? Infinity),
    inbound: fleet.hosts.map((h) => policy.inboundLimit(h.nicBytesPerS) ?? Infinity),
    maxPerCluster: policy.maxPerCluster,
  };
}

/**
 * The hosts as the run goes: which host runs each VM, each host's free memory and vCPUs, its outbound and inbound
 * migrations and its {@link HostState}. A migration reserves the VM's memory and vCPUs on its destination when it
 * starts, and gives them back to the source (moved) or to the destination (not moved) when it ends.
 *
 * Destinations come from a {@link CapacityIndex} kept up to date on every change, so choosing one does not scan
 * the fleet.
 */
export class HostTable {
  private readonly vmHost: Int32Array;
  private readonly freeMem: number[];
  private readonly freeCpu: number[];
  private readonly outboundCount: number[];
  private readonly inboundCount: number[];
  private readonly states: HostState[];
  private upgradingHosts = 0;
  private running = 0;
  private readonly clusterLimit: number;
  private readonly index: CapacityIndex;
  /** The VMs on each host now: waves and the rebalancer read a host's VMs without a scan of the fleet. */
  private readonly vmsByHost: Set<number>[];

  /** The fleet as it starts: every host up, VMs where `fleet.placement` put them (-1: nowhere). */
  constructor(
    private readonly fleet: Fleet,
    /** Concurrent migrations a host may send. */
    readonly maxOutbound: number,
    /** Concurrent migrations a host may receive. */
    readonly maxInbound: number,
    /** Per-host limits in place of the two above, and a cluster-wide one. */
    private readonly limits: HostLimits = {},
  ) {
    this.clusterLimit = limits.maxPerCluster ?? Infinity;
    this.vmHost = fleet.placement.slice();
    this.freeMem = fleet.hosts.map((h) => h.memoryBytes);
    this.freeCpu = fleet.hosts.map((h) => h.vcpuCapacity);
    this.vmsByHost = fleet.hosts.map(() => new Set<number>());
    for (const vm of fleet.vms) {
      const h = this.vmHost[vm.id]!;
      if (h < 0) continue;
      this.vmsByHost[h]!.add(vm.id);
      this.freeMem[h]! -= vm.ramBytes;
      this.freeCpu[h]! -= vm.vcpus;
    }
    this.outboundCount = fleet.hosts.map(() => 0);
    this.inboundCount = fleet.hosts.map(() => 0);
    this.states = fleet.hosts.map(() => 'up');
    this.index = new CapacityIndex(fleet.hosts.length);
    for (let h = 0; h < fleet.hosts.length; h++) this.refresh(h);
  }

  /** Number of hosts. */
  get hostCount(): number {
    return this.fleet.hosts.length;
  }

  /** The host running VM `vmId`, or -1 if it was never placed. */
  hostOf(vmId: number): number {
    return this.vmHost[vmId]!;
  }

  state(host: number): HostState {
    return this.states[host]!;
  }

  setState(host: number, state: HostState): void {
    if (this.states[host] === 'upgrading') this.upgradingHosts--;
    if (state === 'upgrading') this.upgradingHosts++;
    this.states[host] = state;
    this.refresh(host);
  }

  /** Whether some host is out for its upgrade (and will come back up with room). */
  anyUpgrading(): boolean {
    return this.upgradingHosts > 0;
  }

  freeMemory(host: number): number {
    return this.freeMem[host]!;
  }

  freeVcpus(host: number): number {
    return this.freeCpu[host]!;
  }

  /** Migrations the host is sending now. */
  outbound(host: number): number {
    return this.outboundCount[host]!;
  }

  /** Migrations the host is receiving now. */
  inbound(host: number): number {
    return this.inboundCount[host]!;
  }

  /** Whether the host may send one more migration: below its outbound limit, and the cluster below its own. */
  hasOutboundSlot(host: number): boolean {
    return this.outboundCount[host]! < (this.limits.outbound?.[host] ?? this.maxOutbound) && this.running < this.clusterLimit;
  }

  hasInboundSlot(host: number): boolean {
    return this.inboundCount[host]! < (this.limits.inbound?.[host] ?? this.maxInbound);
  }

  /** Migrations running in the whole cluster. */
  get migrationsRunning(): number {
    return this.running;
  }

  /** Whether the host has the memory and vCPUs `vm` needs. */
  fits(host: number, vm: Vm): boolean {
    return this.freeMem[host]! >= vm.ramBytes && this.freeCpu[host]! >= vm.vcpus;
  }

  /** Share of the host's memory in use (reservations of incoming migrations included). */
  load(host: number): number {
    return 1 - this.freeMem[host]! / this.fleet.hosts[host]!.memoryBytes;
  }

  /**
   * The least-loaded `up` host (most free memory, lowest id on ties) other than `exclude` that has an inbound slot
   * and room for `vm`, or -1 if there is none.
   */
  destinationFor(vm: Vm, exclude: number): number {
    return this.index.best(vm.ramBytes, (h) => h !== exclude && this.freeCpu[h]! >= vm.vcpus);
  }

  /** A migration of `vm` from `src` to `dst` starts: it takes a slot on both and the VM's room on `dst`. */
  reserve(vm: Vm, src: number, dst: number): void {
    this.running++;
    this.outboundCount[src]!++;
    this.inboundCount[dst]!++;
    this.freeMem[dst]! -= vm.ramBytes;
    this.freeCpu[dst]! -= vm.vcpus;
    this.refresh(dst);
  }

  /**
   * The migration of `vm` from `src` to `dst` ends: both slots are freed; if the VM `moved` it now runs on `dst` and
   * its room on `src` is free, otherwise its reservation on `dst` is given back.
   */
  release(vm: Vm, src: number, dst: number, moved: boolean): void {
    this.running--;
    this.outboundCount[src]!--;
    this.inboundCount[dst]!--;
    if (moved) {
      this.vmHost[vm.id] = dst;
      this.vmsByHost[src]!.delete(vm.id);
      this.vmsByHost[dst]!.add(vm.id);
      this.freeMem[src]! += vm.ramBytes;
      this.freeCpu[src]! += vm.vcpus;
      this.refresh(src);
    } else {
      this.freeMem[dst]! += vm.ramBytes;
      this.freeCpu[dst]! += vm.vcpus;
    }
    this.refresh(dst);
  }

  /** The VMs on each of `hosts` now, in VM order, from the per-host sets (no scan of the fleet). */
  vmsOn(hosts: readonly number[]): Map<number, number[]> {
    return new Map(hosts.map((h) => [h, [...this.vmsByHost[h]!].sort((a, b) => a - b)]));
  }

  /** Puts the host's current eligibility and free memory into the index. */
  private refresh(host: number): void {
    const eligible = this.states[host] === 'up' && this.hasInboundSlot(host);
    this.index.set(host, eligible ? this.freeMem[host]! : INELIGIBLE);
  }
}
