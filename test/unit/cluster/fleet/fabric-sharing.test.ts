import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFleet } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { EmbeddedTransport } from '../../../../shared/src/cluster/fleet/embedded-transport.js';
import type { FleetRunResult } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { FleetSimulation } from '../../../../shared/src/cluster/fleet/fleet-simulation.js';
import type { Scenario } from '../../../../shared/src/cluster/scenario/scenario-schema.js';
import { firstPassSeconds } from '../../../../shared/src/migration/precopy/earliest-end.js';
import { STREAM } from '../../../../shared/src/migration/precopy/qemu-defaults.js';
import { runs } from '../../../helpers/mmu-driver.js';
import { scenarioWith } from './fleet-fixtures.js';

/** 10 Gbit/s NICs, bytes/s. */
const NIC = 10e9 / 8;

async function run(s: Scenario): Promise<FleetRunResult> {
  return new FleetSimulation(s, buildFleet(s), 'fabric-test', new EmbeddedTransport()).run();
}

/** Host 0 evacuated alone (the others receive), its `perHost` VMs at `maxOutbound` at a time. */
function drainOne(perHost: number, maxOutbound: number, workload: Record<string, unknown>, migration: Record<string, unknown> = {}): Scenario {
  return scenarioWith({
    horizon: '2d',
    cluster: { host_classes: [{ name: 'std', count: perHost + 1, cores: 32, memory: '256GiB', nic: '10Gbit/s' }] },
    vms: { per_host: perHost, ram: '8GiB', vcpus: 4, workloads: [{ workload }] },
    migration: { max_bandwidth: '40Gbit/s', ...migration },
    policies: { maintenance: { wave_size: 1, hosts: 1, max_outbound: maxOutbound, max_inbound: 4 } },
  });
}

const fromHost0 = (r: FleetRunResult) => r.jobs.filter((j) => j.src === 0 && j.dst !== null);

describe('migrations share their links (SimGrid-style max-min fairness): what operators tune their limits for', () => {
  it('k identical idle migrations through one NIC take about k times as long as one alone', async () => {
    const alone = fromHost0(await run(drainOne(1, 1, { kind: 'idle' })));
    const oneS = alone[0]!.result.total_time_s;
    for (const k of [2, 4]) {
      const together = fromHost0(await run(drainOne(k, k, { kind: 'idle' })));
      expect(together).toHaveLength(k);
      for (const j of together) {
        expect(j.startS).toBe(0);
        expect(j.result.total_time_s / oneS).toBeGreaterThan(0.9 * k);
        expect(j.result.total_time_s / oneS).toBeLessThan(1.1 * k);
      }
    }
  });

  it('for VMs dirtying more than half the link, max_outbound 2 drains a host no faster than 1, and aborts more', async () => {
    // Each VM writes 0.6 of the NIC: alone it converges; two sharing the NIC get 0.5 each and cannot.
    const workload = { kind: 'uniform', dirty_rate: `${0.6 * NIC}B/s` };
    const migration = { timeout: '3m', max_attempts: 4 };
    const one = await run(drainOne(4, 1, workload, migration));
    const two = await run(drainOne(4, 2, workload, migration));
    const aborted = (r: FleetRunResult) => fromHost0(r).filter((j) => j.result.status !== 'completed').length;
    expect(fromHost0(one).filter((j) => j.result.status === 'completed')).toHaveLength(4);
    expect(aborted(one)).toBe(0);
    expect(aborted(two)).toBeGreaterThan(0);
    expect(two.makespanS!).toBeGreaterThanOrEqual(one.makespanS!);
  });

  it('a 3:1 oversubscribed top-of-rack uplink stretches a rack drain (every flow leaves the rack through it)', async () => {
    const rackDrain = (torUplink: string | null) =>
      scenarioWith({
        horizon: '2d',
        cluster: { host_classes: [{ name: 'std', count: 16, cores: 32, memory: '256GiB', nic: '10Gbit/s' }], network: { hosts_per_rack: 8, tor_uplink: torUplink } },
        vms: { per_host: 2, ram: '8GiB', vcpus: 4, workloads: [{ workload: { kind: 'idle' } }] },
        migration: { max_bandwidth: '40Gbit/s' },
        policies: { maintenance: { wave_size: 8, hosts: 8, max_outbound: 1, max_inbound: 2, drain_order: 'rack' } },
      });
    const open = await run(rackDrain(null));
    const oversubscribed = await run(rackDrain('3:1'));
    const crossRack = (r: FleetRunResult) => r.jobs.filter((j) => j.dst !== null && j.srcRack !== j.dstRack);
    expect(crossRack(open)).toHaveLength(16);
    expect(crossRack(oversubscribed)).toHaveLength(16);
    // 8 flows out of the rack at once: 8 × 10 Gbit/s through a 26.7 Gbit/s uplink, each at 1/3 of its NIC.
    expect(oversubscribed.makespanS! / open.makespanS!).toBeGreaterThan(2.5);
    expect(oversubscribed.makespanS! / open.makespanS!).toBeLessThan(3.1);
    // The uplink is full while the wave drains: its busiest bin carries its capacity for the wave's whole span.
    const uplink = oversubscribed.network!.tiers.find((t) => t.tier === 'uplink')!;
    const binS = oversubscribed.network!.binS;
    expect(oversubscribed.makespanS!).toBeLessThan(binS);
    expect(Math.max(...uplink.maxUtil)).toBeCloseTo(oversubscribed.makespanS! / binS, 1);
  });

  it("property: a drain's makespan is never below Σ first-pass time / slots", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('2GiB', '4GiB', '8GiB'),
        fc.integer({ min: 0, max: 300 }),
        fc.constantFrom('1Gbit/s', '5Gbit/s', '40Gbit/s'),
        async (perHost, maxOutbound, ram, dirtyMiB, maxBandwidth) => {
          const s = scenarioWith({
            horizon: '2d',
            cluster: { host_classes: [{ name: 'std', count: perHost + 1, cores: 32, memory: '256GiB', nic: '10Gbit/s' }] },
            vms: { per_host: perHost, ram, vcpus: 4, workloads: [{ workload: { kind: 'uniform', dirty_rate: `${dirtyMiB}MiB/s` } }] },
            migration: { max_bandwidth: maxBandwidth, timeout: '10m' },
            policies: { maintenance: { wave_size: 1, hosts: 1, max_outbound: maxOutbound, max_inbound: 4 } },
          });
          const r = await run(s);
          const moved = fromHost0(r).filter((j) => j.result.status === 'completed');
          const perFlow = Math.min(s.migration.max_bandwidth!, NIC, STREAM.bytesPerCoreS);
          const bound = moved.reduce((a, j) => a + firstPassSeconds(j.result.ram.total_bytes, 0, perFlow), 0) / maxOutbound;
          if (moved.length > 0) expect(r.makespanS!).toBeGreaterThanOrEqual(bound * (1 - 1e-9));
        },
      ),
      { numRuns: runs(12) },
    );
  }, 120_000);
});
