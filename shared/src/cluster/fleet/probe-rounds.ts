import type { Environment } from '../../engine/environment.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { Fleet } from './build-fleet.js';
import type { FleetActions } from './fleet-actions.js';
import type { HostTable } from './host-table.js';

/** The scenario's probe policy. */
export type ProbePolicy = NonNullable<Scenario['policies']['probes']>;

/**
 * Periodic dirty-rate probes (QEMU's calc-dirty-rate): every `every` seconds until the horizon, a round probes up
 * to `vms_per_round` VMs, going round the fleet in VM order from a cursor. VMs that are busy, unplaced or on a
 * failed host are skipped; the cursor moves on by `vms_per_round` whatever was skipped.
 */
export class ProbeRounds {
  private cursor = 0;

  constructor(
    private readonly policy: ProbePolicy,
    private readonly horizonS: number,
    private readonly env: Environment,
    private readonly fleet: Fleet,
    private readonly hosts: HostTable,
    private readonly actions: Pick<FleetActions, 'isBusy' | 'probe'>,
  ) {}

  /** Schedules every round of the run. */
  begin(): void {
    for (let t = this.policy.every; t < this.horizonS; t += this.policy.every) this.env.callAt(t, () => this.round());
  }

  /** Probes the next VMs from the cursor. */
  round(): void {
    const vms = this.fleet.vms;
    const n = vms.length;
    let started = 0;
    for (let k = 0; k < n && started < this.policy.vms_per_round; k++) {
      const vm = vms[(this.cursor + k) % n]!;
      const h = this.hosts.hostOf(vm.id);
      if (h < 0 || this.actions.isBusy(vm.id) || this.hosts.state(h) === 'failed') continue;
      this.actions.probe(vm, h);
      started++;
    }
    this.cursor = (this.cursor + this.policy.vms_per_round) % Math.max(1, n);
  }
}
