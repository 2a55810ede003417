import { describe, expect, it } from 'vitest';
import { Environment } from '../../../../shared/src/engine/environment.js';
import { HostTable, hostLimitsFrom } from '../../../../shared/src/cluster/fleet/host-table.js';
import { MaintenanceWaves } from '../../../../shared/src/cluster/fleet/maintenance-waves.js';
import { MigrationAttempts } from '../../../../shared/src/cluster/fleet/migration-attempts.js';
import { resolveMigrationPolicy } from '../../../../shared/src/cluster/policy/resolve-migration-policy.js';
import { fleetOf, GiB, scenarioWith } from './fleet-fixtures.js';

const GBE = 1e9 / 8;
const hosts = (nics: number[]) => nics.map((nicBytesPerS) => ({ memoryBytes: 256 * GiB, vcpus: 64, nicBytesPerS }));
const vm = (host: number) => ({ ramBytes: 8 * GiB, vcpus: 4, host });

describe('HostTable with per-host and cluster-wide limits', () => {
  it('without limits: the uniform ones, as before', () => {
    const fleet = fleetOf(hosts([GBE, GBE, GBE]), [vm(0), vm(0)]);
    const t = new HostTable(fleet, 1, 1);
    expect(t.hasOutboundSlot(0)).toBe(true);
    t.reserve(fleet.vms[0]!, 0, 1);
    expect([t.hasOutboundSlot(0), t.hasInboundSlot(1), t.migrationsRunning]).toEqual([false, false, 1]);
  });

  it("vSphere's limits by NIC: 4 on 1 GbE, 8 on 10 GbE", () => {
    const fleet = fleetOf(hosts([GBE, 10 * GBE]), []);
    const policy = resolveMigrationPolicy(scenarioWith({ policies: { preset: 'vsphere' } }));
    expect(hostLimitsFrom(policy, fleet)).toEqual({ outbound: [4, 8], inbound: [4, 8], maxPerCluster: null });
  });

  it("KubeVirt's: 2 out per host, no inbound limit, 5 in the cluster", () => {
    const fleet = fleetOf(hosts(Array(6).fill(GBE)), Array.from({ length: 6 }, (_, i) => vm(i % 3)));
    const policy = resolveMigrationPolicy(scenarioWith({ policies: { preset: 'kubevirt' } }));
    const limits = hostLimitsFrom(policy, fleet);
    expect(limits.inbound).toEqual(Array(6).fill(Infinity));
    const t = new HostTable(fleet, 1, 1, limits);
    // Host 0 sends two, then has no slot; host 5 takes three (no inbound limit).
    t.reserve(fleet.vms[0]!, 0, 5);
    expect(t.hasOutboundSlot(0)).toBe(true);
    t.reserve(fleet.vms[3]!, 0, 5);
    expect(t.hasOutboundSlot(0)).toBe(false);
    t.reserve(fleet.vms[1]!, 1, 5);
    t.reserve(fleet.vms[4]!, 1, 4);
    expect(t.hasInboundSlot(5)).toBe(true);
    t.reserve(fleet.vms[2]!, 2, 3);
    // Five running: no host may send another until one ends.
    expect([t.migrationsRunning, t.hasOutboundSlot(2), t.hasOutboundSlot(3)]).toEqual([5, false, false]);
    t.release(fleet.vms[2]!, 2, 3, true);
    expect([t.migrationsRunning, t.hasOutboundSlot(2)]).toEqual([4, true]);
  });
});

describe('MaintenanceWaves in drain order', () => {
  /** The hosts of each wave of 8 hosts drained with `maintenance`, in racks of `hostsPerRack` when given. */
  const waveHosts = (maintenance: Record<string, unknown>, hostsPerRack?: number): (readonly number[])[] => {
    const env = new Environment();
    const fleet = fleetOf(hosts(Array(8).fill(GBE)), []);
    const policy = scenarioWith({ policies: { maintenance } }).policies.maintenance!;
    const actions = { isBusy: () => false, migrationsInFlight: () => false, migrate: () => {}, progress: () => {} };
    const w = new MaintenanceWaves(policy, 3, env, fleet, new HostTable(fleet, 1, 1), new MigrationAttempts(), actions, hostsPerRack);
    w.begin();
    env.run();
    return w.waves.map((x) => x.hosts);
  };

  it('host order by default; rack and spread by the racks given', () => {
    expect(waveHosts({ wave_size: 3 })).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]]);
    expect(waveHosts({ wave_size: 3, drain_order: 'rack' }, 4)).toEqual([[0, 1, 2], [3], [4, 5, 6], [7]]);
    expect(waveHosts({ wave_size: 2, drain_order: 'spread' }, 4)).toEqual([[0, 4], [1, 5], [2, 6], [3, 7]]);
    // Without racks given every host is in one rack: rack and spread are host order.
    expect(waveHosts({ wave_size: 3, drain_order: 'spread' })).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]]);
  });
});
