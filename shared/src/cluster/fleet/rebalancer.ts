import type { Environment } from '../../engine/environment.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { Fleet, Vm } from './build-fleet.js';
import type { FleetActions } from './fleet-actions.js';
import type { HostTable } from './host-table.js';

/** The scenario's rebalancing policy. */
export type RebalancePolicy = NonNullable<Scenario['policies']['rebalance']>;

/**
 * Probe-driven rebalancing: every `every` seconds until the horizon, when the most and least loaded `up` hosts
 * (memory in use; lowest id on ties) differ by more than `threshold` and both have a migration slot, the first
 * `probes_per_round` free VMs of the most loaded host are probed, and once all their results are in, the least
 * dirty of them (the cheapest to migrate; lowest id on ties) moves to the least loaded host, if it still can.
 */
export class Rebalancer {
  constructor(
    private readonly policy: RebalancePolicy,
    private readonly horizonS: number,
    private readonly env: Environment,
    private readonly fleet: Fleet,
    private readonly hosts: HostTable,
    private readonly actions: Pick<FleetActions, 'isBusy' | 'probe' | 'migrate'>,
  ) {}

  /** Schedules every round of the run. */
  begin(): void {
    for (let t = this.policy.every; t < this.horizonS; t += this.policy.every) this.env.callAt(t, () => this.round());
  }

  /** Probes the most loaded host's candidates if the imbalance calls for a move. */
  round(): void {
    const pair = this.mostAndLeastLoaded();
    if (pair === null) return;
    const [hi, lo] = pair;
    const t = this.hosts;
    if (t.load(hi) - t.load(lo) <= this.policy.threshold) return;
    if (!t.hasOutboundSlot(hi) || !t.hasInboundSlot(lo)) return;
    const candidates = t.vmsOn([hi]).get(hi)!.map((id) => this.fleet.vms[id]!).filter((v) => !this.actions.isBusy(v.id)).slice(0, this.policy.probes_per_round);
    const measured = new Map<number, number>();
    for (const vm of candidates) {
      this.actions.probe(vm, hi, (res) => {
        measured.set(vm.id, res.measured_dirty_rate_bytes_per_s ?? 0);
        if (measured.size === candidates.length) this.moveLeastDirty(measured, hi, lo);
      });
    }
  }

  /** The most and the least loaded `up` hosts (first in id order on ties), or null unless there are two. */
  private mostAndLeastLoaded(): [number, number] | null {
    const t = this.hosts;
    let hi = -1;
    let lo = -1;
    for (let h = 0; h < t.hostCount; h++) {
      if (t.state(h) !== 'up') continue;
      if (hi < 0 || t.load(h) > t.load(hi)) hi = h;
      if (lo < 0 || t.load(h) < t.load(lo)) lo = h;
    }
    return hi < 0 || lo < 0 || hi === lo ? null : [hi, lo];
  }

  /** Moves the VM with the lowest measured dirty rate from `hi` to `lo`, if nothing has changed that forbids it. */
  private moveLeastDirty(measured: ReadonlyMap<number, number>, hi: number, lo: number): void {
    const best = [...measured.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]!;
    const vm: Vm = this.fleet.vms[best[0]]!;
    const t = this.hosts;
    if (t.hostOf(vm.id) !== hi || this.actions.isBusy(vm.id) || t.state(lo) !== 'up') return;
    if (!t.fits(lo, vm) || !t.hasInboundSlot(lo) || !t.hasOutboundSlot(hi)) return;
    this.actions.migrate('rebalance', null, vm, hi, lo);
  }
}
