import { describe, expect, it } from 'vitest';
import { Environment } from '../../../../shared/src/engine/environment.js';
import type { Fleet, Vm } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { HostTable } from '../../../../shared/src/cluster/fleet/host-table.js';
import { MaintenanceWaves, type MaintenancePolicy } from '../../../../shared/src/cluster/fleet/maintenance-waves.js';
import { MigrationAttempts } from '../../../../shared/src/cluster/fleet/migration-attempts.js';
import { fleetOf, GiB, scenarioWith, type VmSpec } from './fleet-fixtures.js';

interface Started {
  readonly wave: number;
  readonly vm: Vm;
  readonly src: number;
  readonly dst: number;
}

/**
 * Waves over a fleet, with the simulation's side played by hand: `migrate` reserves and records the migration,
 * `finish` ends it as the simulation would.
 */
function harness(fleet: Fleet, maintenance: Record<string, unknown>, maxAttempts = 3) {
  const policy: MaintenancePolicy = scenarioWith({ policies: { maintenance } }).policies.maintenance!;
  const env = new Environment();
  const hosts = new HostTable(fleet, policy.max_outbound ?? 1, policy.max_inbound ?? 1);
  const attempts = new MigrationAttempts();
  const busy = new Set<number>();
  const running: Started[] = [];
  const started: string[] = [];
  let othersInFlight = false;
  let progressCalls = 0;
  const waves = new MaintenanceWaves(policy, maxAttempts, env, fleet, hosts, attempts, {
    isBusy: (vmId) => busy.has(vmId),
    migrationsInFlight: () => othersInFlight || running.length > 0,
    migrate: (_purpose, wave, vm, src, dst) => {
      hosts.reserve(vm, src, dst);
      attempts.next(vm.id, 'migration');
      busy.add(vm.id);
      running.push({ wave: wave!, vm, src, dst });
      started.push(`vm${vm.id}:${src}->${dst}`);
    },
    progress: () => progressCalls++,
  });
  /** Ends the running migration of VM `vmId`, moved or not. */
  const finish = (vmId: number, moved: boolean) => {
    const at = running.findIndex((r) => r.vm.id === vmId);
    const [r] = running.splice(at, 1);
    busy.delete(vmId);
    hosts.release(r!.vm, r!.src, r!.dst, moved);
    waves.migrationEnded(r!.wave, vmId, r!.src, moved);
    waves.schedule();
  };
  return {
    env,
    hosts,
    waves,
    busy,
    started,
    finish,
    setOthersInFlight: (v: boolean) => (othersInFlight = v),
    progressCalls: () => progressCalls,
  };
}

const hosts64 = (n: number) => Array.from({ length: n }, () => ({ memoryBytes: 64 * GiB, vcpus: 64 }));
const vm8 = (host: number): VmSpec => ({ ramBytes: 8 * GiB, vcpus: 4, host });

describe('MaintenanceWaves', () => {
  it('goes through the hosts in waves of consecutive ids, the first `hosts` of them', () => {
    const all = harness(fleetOf(hosts64(5), []), { wave_size: 2, start: 100, upgrade_time: 60 });
    expect(all.waves.wavesTotal).toBe(3);
    all.waves.begin();
    all.env.run();
    expect(all.waves.waves.map((w) => w.hosts)).toEqual([[0, 1], [2, 3], [4]]);
    expect(all.waves.waves.map((w) => [w.startS, w.endS, w.stuckVms, w.migrations])).toEqual([
      [100, 100, 0, 0],
      [100, 100, 0, 0],
      [100, 100, 0, 0],
    ]);
    expect(all.waves.wavesDone).toBe(3);
    expect(all.waves.makespanS).toBe(100);
    expect(all.env.now).toBe(160);
    expect([0, 1, 2, 3, 4].map((h) => all.hosts.state(h))).toEqual(['up', 'up', 'up', 'up', 'up']);

    const some = harness(fleetOf(hosts64(5), []), { wave_size: 2, hosts: 3 });
    expect(some.waves.wavesTotal).toBe(2);
    some.waves.begin();
    some.env.run();
    expect(some.waves.waves.map((w) => w.hosts)).toEqual([[0, 1], [2]]);
  });

  it('has no waves done nor makespan before it starts', () => {
    const h = harness(fleetOf(hosts64(2), []), { wave_size: 1 });
    expect([h.waves.wavesDone, h.waves.makespanS, h.waves.waves.length]).toEqual([0, null, 0]);
    h.waves.schedule();
    expect(h.waves.waves.length).toBe(0);
  });

  it('sends each host VMs in order, one at a time, each to the least-loaded up host with an inbound slot', () => {
    const h = harness(fleetOf(hosts64(4), [vm8(0), vm8(0), vm8(1)]), { wave_size: 2, upgrade_time: 60 });
    h.waves.begin();
    h.env.run(0);
    expect([h.hosts.state(0), h.hosts.state(1)]).toEqual(['draining', 'draining']);
    // Hosts 2 and 3 are equally free: the lower id first; then host 2 has no inbound slot left.
    expect(h.started).toEqual(['vm0:0->2', 'vm2:1->3']);
    h.finish(0, true);
    expect(h.started).toEqual(['vm0:0->2', 'vm2:1->3', 'vm1:0->2']);
    h.finish(2, true);
    expect(h.waves.wavesDone).toBe(0);
    h.finish(1, true);
    const [wave] = h.waves.waves;
    expect([wave!.endS, wave!.migrations, wave!.stuckVms]).toEqual([0, 3, 0]);
    expect([h.hosts.state(0), h.hosts.state(1)]).toEqual(['upgrading', 'upgrading']);
  });

  it('starts the next wave at once and waits while a host upgrades that may take its VMs', () => {
    const h = harness(fleetOf(hosts64(4), [vm8(0), vm8(2)]), { wave_size: 2, upgrade_time: 60 });
    h.waves.begin();
    h.env.run(0);
    h.finish(0, true); // vm0 to host 3, the freest
    h.env.run(0);
    expect(h.waves.waves.map((w) => w.hosts)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    // Hosts 0 and 1 are upgrading: nowhere to go until they are back.
    expect(h.started).toEqual(['vm0:0->3']);
    expect(h.waves.waves[1]!.endS).toBeNull();
    h.env.run(60);
    expect([h.hosts.state(0), h.hosts.state(1)]).toEqual(['up', 'up']);
    expect(h.started).toEqual(['vm0:0->3', 'vm1:2->0', 'vm0:3->1']);
    h.finish(1, true);
    h.finish(0, true);
    expect(h.waves.waves[1]!.endS).toBe(60);
    expect(h.waves.waves[1]!.migrations).toBe(2);
  });

  it('tries a VM again after a failed migration until its attempts reach max_attempts, then leaves it stuck', () => {
    const h = harness(fleetOf(hosts64(2), [vm8(0), vm8(1)]), { wave_size: 1, hosts: 1 }, 2);
    h.waves.begin();
    h.env.run(0);
    h.finish(0, false);
    expect(h.started).toEqual(['vm0:0->1', 'vm0:0->1']);
    expect(h.waves.wavesDone).toBe(0);
    h.finish(0, false);
    expect(h.started).toHaveLength(2);
    const [wave] = h.waves.waves;
    expect([wave!.endS, wave!.migrations, wave!.stuckVms]).toEqual([0, 0, 1]);
    expect(h.hosts.hostOf(0)).toBe(0);
  });

  it('waits while another migration may free room, then leaves the VMs that found none', () => {
    const full = { memoryBytes: 8 * GiB, vcpus: 64 };
    const h = harness(fleetOf([{ memoryBytes: 64 * GiB, vcpus: 64 }, full], [vm8(0), vm8(1)]), { wave_size: 1, hosts: 1 });
    h.setOthersInFlight(true);
    h.waves.begin();
    h.env.run(0);
    expect(h.started).toEqual([]);
    expect(h.waves.waves[0]!.endS).toBeNull();
    h.setOthersInFlight(false);
    h.waves.schedule();
    expect(h.waves.waves[0]!.stuckVms).toBe(1);
    expect(h.waves.waves[0]!.endS).toBe(0);
  });

  it('waits for a VM busy with another job before sending it and the VMs after it', () => {
    const h = harness(fleetOf(hosts64(2), [vm8(0), vm8(0)]), { wave_size: 1, hosts: 1 });
    h.busy.add(0);
    h.setOthersInFlight(true);
    h.waves.begin();
    h.env.run(0);
    expect(h.started).toEqual([]);
    h.busy.delete(0);
    h.waves.schedule();
    expect(h.started).toEqual(['vm0:0->1']);
  });

  it('leaves failed hosts out of a wave and stops sending from a host that fails', () => {
    const h = harness(fleetOf(hosts64(4), [vm8(0), vm8(0), vm8(1)]), { wave_size: 2, max_inbound: 2 });
    h.hosts.setState(1, 'failed');
    h.waves.begin();
    h.env.run(0);
    expect(h.waves.waves[0]!.hosts).toEqual([0]);
    expect(h.started).toEqual(['vm0:0->2']);
    h.hosts.setState(0, 'failed');
    h.waves.hostFailed(0);
    h.finish(0, false);
    expect(h.started).toEqual(['vm0:0->2']);
    expect(h.waves.waves[0]!.endS).toBe(0);
    expect(h.hosts.state(0)).toBe('failed');
  });

  it('reports progress when a wave starts and when it ends', () => {
    const h = harness(fleetOf(hosts64(2), []), { wave_size: 1, hosts: 1 });
    h.waves.begin();
    h.env.run();
    expect(h.progressCalls()).toBe(2);
  });
});
