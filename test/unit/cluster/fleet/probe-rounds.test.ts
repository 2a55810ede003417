import { describe, expect, it } from 'vitest';
import { Environment } from '../../../../shared/src/engine/environment.js';
import { HostTable } from '../../../../shared/src/cluster/fleet/host-table.js';
import { ProbeRounds, type ProbePolicy } from '../../../../shared/src/cluster/fleet/probe-rounds.js';
import { fleetOf, GiB, scenarioWith } from './fleet-fixtures.js';

/** Six VMs on two hosts, VM 5 unplaced; probes recorded as `vm<id>@<host>`. */
function harness(probes: Record<string, unknown>, horizon = 3600) {
  const policy: ProbePolicy = scenarioWith({ policies: { probes } }).policies.probes!;
  const fleet = fleetOf(
    [
      { memoryBytes: 64 * GiB, vcpus: 64 },
      { memoryBytes: 64 * GiB, vcpus: 64 },
    ],
    [0, 1, 0, 1, 0, -1].map((host) => ({ ramBytes: GiB, vcpus: 1, host })),
  );
  const env = new Environment();
  const hosts = new HostTable(fleet, 1, 1);
  const busy = new Set<number>();
  const probed: string[] = [];
  const rounds = new ProbeRounds(policy, horizon, env, fleet, hosts, {
    isBusy: (vmId) => busy.has(vmId),
    probe: (vm, host) => probed.push(`vm${vm.id}@${host}`),
  });
  return { env, hosts, busy, probed, rounds };
}

describe('ProbeRounds', () => {
  it('runs a round every period before the horizon', () => {
    const h = harness({ every: 1000, vms_per_round: 1 }, 3000);
    const times: number[] = [];
    h.rounds.begin();
    while (h.env.peek() < Infinity) {
      h.env.step();
      times.push(h.env.now);
    }
    expect(times).toEqual([1000, 2000]);
    expect(h.probed).toEqual(['vm0@0', 'vm1@1']);
  });

  it('probes the next VMs round the fleet from a cursor that moves on by a round each time', () => {
    const h = harness({ every: 60, vms_per_round: 4 });
    h.rounds.round();
    h.rounds.round();
    expect(h.probed).toEqual(['vm0@0', 'vm1@1', 'vm2@0', 'vm3@1', 'vm4@0', 'vm0@0', 'vm1@1', 'vm2@0']);
  });

  it('skips busy and unplaced VMs and VMs on failed hosts, and the cursor moves on all the same', () => {
    const h = harness({ every: 60, vms_per_round: 2 });
    h.busy.add(0);
    h.hosts.setState(1, 'failed');
    h.rounds.round();
    expect(h.probed).toEqual(['vm2@0', 'vm4@0']);
    h.rounds.round();
    expect(h.probed.slice(2)).toEqual(['vm2@0', 'vm4@0']);
    h.rounds.round();
    expect(h.probed.slice(4)).toEqual(['vm4@0', 'vm2@0']);
  });
});
