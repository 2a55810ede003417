import type { Environment } from '../../engine/environment.js';
import { drainWaves } from '../policy/drain-waves.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { Fleet } from './build-fleet.js';
import type { FleetActions } from './fleet-actions.js';
import type { WaveRecord } from './fleet-run-result.js';
import type { HostTable } from './host-table.js';
import type { MigrationAttempts } from './migration-attempts.js';

/** The scenario's maintenance policy. */
export type MaintenancePolicy = NonNullable<Scenario['policies']['maintenance']>;

/**
 * Rolling maintenance in waves of `wave_size` hosts (the first `hosts`, in the policy's `drain_order`: consecutive
 * ids, rack by rack, or spread across racks; see `drainWaves`). A wave drains its
 * hosts (those not failed): each sends its VMs one after another, in VM order, within the per-host limits on
 * outbound and inbound migrations, to destinations chosen by the {@link HostTable}. A VM whose migration fails is
 * tried again until its attempts reach `max_attempts`. The wave ends when none of its migrations is in flight and
 * none can start, unless another migration or an upgrade may still free room; VMs left on its hosts then stay
 * there (stuck). At its end its hosts go out for `upgrade_time` and the next wave starts.
 */
export class MaintenanceWaves {
  private readonly waveHosts: number[][] = [];
  private readonly records: WaveRecord[] = [];
  /** VMs still to send, per draining host, in order. */
  private readonly pendingByHost = new Map<number, number[]>();
  private current = -1;
  private lastEndS: number | null = null;

  constructor(
    private readonly policy: MaintenancePolicy,
    /** The scenario's `migration.max_attempts`. */
    private readonly maxAttempts: number,
    private readonly env: Environment,
    private readonly fleet: Fleet,
    private readonly hosts: HostTable,
    private readonly attempts: MigrationAttempts,
    private readonly actions: Pick<FleetActions, 'isBusy' | 'migrationsInFlight' | 'migrate' | 'progress'>,
    /** Hosts per rack (the fabric's), for `drain_order` rack and spread; by default one rack of every host. */
    hostsPerRack: number = fleet.hosts.length,
  ) {
    const n = policy.hosts ?? fleet.hosts.length;
    const ids = Array.from({ length: n }, (_, i) => i);
    this.waveHosts.push(...drainWaves(ids, policy.wave_size, Math.max(1, hostsPerRack), policy.drain_order));
  }

  /** Schedules the first wave at the policy's `start`. */
  begin(): void {
    this.env.callAt(this.policy.start, () => this.startWave(0));
  }

  /** The waves started so far. */
  get waves(): WaveRecord[] {
    return this.records;
  }

  get wavesTotal(): number {
    return this.waveHosts.length;
  }

  get wavesDone(): number {
    return this.records.filter((w) => w.endS !== null).length;
  }

  /** When the last wave ended so far; null before the first ends. */
  get makespanS(): number | null {
    return this.lastEndS;
  }

  /** A host failed: its VMs are lost to the fleet, nothing more is sent from it. */
  hostFailed(host: number): void {
    this.pendingByHost.set(host, []);
    this.schedule();
  }

  /**
   * A migration of wave `wave` ended: counted if the VM `moved`; otherwise the VM is sent again later while its
   * host is still draining and it has attempts left.
   */
  migrationEnded(wave: number, vmId: number, src: number, moved: boolean): void {
    if (moved) {
      this.records[wave]!.migrations++;
      return;
    }
    if (this.hosts.state(src) === 'draining' && this.attempts.count(vmId) < this.maxAttempts) this.pendingByHost.get(src)?.push(vmId);
  }

  /** Starts whatever migrations of the current wave the limits and capacities allow; ends the wave if it is done. */
  schedule(): void {
    const w = this.current;
    const wave = this.records[w];
    if (wave === undefined || wave.endS !== null) return;
    for (const h of wave.hosts) if (this.hosts.state(h) === 'draining') this.sendFrom(h, w);
    if (this.waiting(wave)) return;
    this.endWave(wave, w);
  }

  private startWave(w: number): void {
    if (w >= this.waveHosts.length) return;
    this.current = w;
    const hosts = this.waveHosts[w]!.filter((h) => this.hosts.state(h) !== 'failed');
    this.records.push({ wave: w, hosts, startS: this.env.now, endS: null, migrations: 0, stuckVms: 0 });
    const vmsOf = this.hosts.vmsOn(hosts);
    for (const h of hosts) {
      this.hosts.setState(h, 'draining');
      const vms = vmsOf.get(h)!;
      this.pendingByHost.set(h, vms);
      for (const v of vms) this.attempts.reset(v);
    }
    this.actions.progress();
    this.schedule();
  }

  /** Sends the host's next VMs while it has outbound slots, the next VM is free and a destination has room. */
  private sendFrom(h: number, w: number): void {
    const pending = this.pendingByHost.get(h)!;
    while (pending.length > 0 && this.hosts.hasOutboundSlot(h)) {
      const vm = this.fleet.vms[pending[0]!]!;
      if (this.actions.isBusy(vm.id)) break;
      const dst = this.hosts.destinationFor(vm, h);
      if (dst < 0) break;
      pending.shift();
      this.actions.migrate('maintenance', w, vm, h, dst);
    }
  }

  /**
   * Whether the wave must go on: a migration of it is in flight, or VMs are left to send and something may still
   * free room for them (another migration in flight, or a host coming back from its upgrade).
   */
  private waiting(wave: WaveRecord): boolean {
    if (wave.hosts.some((h) => this.hosts.outbound(h) > 0)) return true;
    if (!wave.hosts.some((h) => (this.pendingByHost.get(h)?.length ?? 0) > 0)) return false;
    return this.actions.migrationsInFlight() || this.hosts.anyUpgrading();
  }

  /** VMs still on the wave's hosts (no room, or attempts exhausted) stay; the hosts go out for their upgrade. */
  private endWave(wave: WaveRecord, w: number): void {
    const draining = wave.hosts.filter((h) => this.hosts.state(h) === 'draining');
    wave.stuckVms = 0;
    for (const vms of this.hosts.vmsOn(draining).values()) wave.stuckVms += vms.length;
    for (const h of draining) this.pendingByHost.set(h, []);
    wave.endS = this.env.now;
    this.lastEndS = this.env.now;
    for (const h of draining) {
      this.hosts.setState(h, 'upgrading');
      this.env.callIn(this.policy.upgrade_time, () => this.upgraded(h));
    }
    this.actions.progress();
    this.env.callIn(0, () => this.startWave(w + 1));
  }

  /** The host is back from its upgrade (unless it failed meanwhile) and may receive VMs again. */
  private upgraded(h: number): void {
    if (this.hosts.state(h) === 'upgrading') this.hosts.setState(h, 'up');
    this.schedule();
  }
}
