import { describe, expect, it } from 'vitest';
import { Environment } from '../../../../shared/src/engine/environment.js';
import type { MigrationResult } from '../../../../shared/src/migration/job/migration-result.js';
import { HostTable } from '../../../../shared/src/cluster/fleet/host-table.js';
import { Rebalancer, type RebalancePolicy } from '../../../../shared/src/cluster/fleet/rebalancer.js';
import { fleetOf, GiB, resultWith, scenarioWith } from './fleet-fixtures.js';

const measured = (bytesPerS: number): MigrationResult => resultWith({ measured_dirty_rate_bytes_per_s: bytesPerS });

/**
 * Three hosts of 100 GiB: host 0 at 60 % (VMs 0-3, 15 GiB each), host 1 at 10 % (VM 4), host 2 at 20 % (VMs 5, 6).
 * Probes wait in `pending` for their result; migrations are recorded as `vm<id>:<src>-><dst>`.
 */
function harness(rebalance: Record<string, unknown> = {}, horizon = 3600) {
  const policy: RebalancePolicy = scenarioWith({ policies: { rebalance: { every: 600, ...rebalance } } }).policies.rebalance!;
  const host = { memoryBytes: 100 * GiB, vcpus: 64 };
  const vm = (gib: number, on: number) => ({ ramBytes: gib * GiB, vcpus: 2, host: on });
  const fleet = fleetOf([host, host, host], [vm(15, 0), vm(15, 0), vm(15, 0), vm(15, 0), vm(10, 1), vm(10, 2), vm(10, 2)]);
  const env = new Environment();
  const hosts = new HostTable(fleet, 1, 1);
  const busy = new Set<number>();
  const pending = new Map<number, (r: MigrationResult) => void>();
  const migrations: string[] = [];
  const rebalancer = new Rebalancer(policy, horizon, env, fleet, hosts, {
    isBusy: (vmId) => busy.has(vmId),
    probe: (v, _host, onDone) => pending.set(v.id, onDone!),
    migrate: (_purpose, _wave, v, src, dst) => migrations.push(`vm${v.id}:${src}->${dst}`),
  });
  /** Delivers probe results (VM id, dirty rate) in the order given. */
  const answer = (...rates: [number, number][]) => {
    for (const [vmId, rate] of rates) {
      const onDone = pending.get(vmId)!;
      pending.delete(vmId);
      onDone(measured(rate));
    }
  };
  return { env, fleet, hosts, busy, pending, migrations, rebalancer, answer };
}

describe('Rebalancer', () => {
  it('runs a round every period before the horizon', () => {
    const h = harness({ probes_per_round: 1 }, 1800);
    h.rebalancer.begin();
    h.env.run();
    expect(h.env.now).toBe(1200);
    expect([...h.pending.keys()]).toEqual([0]);
  });

  it('probes the first free VMs of the most loaded host and moves the least dirty to the least loaded host', () => {
    const h = harness({ probes_per_round: 3 });
    h.busy.add(1);
    h.rebalancer.round();
    expect([...h.pending.keys()]).toEqual([0, 2, 3]);
    h.answer([0, 300], [3, 100]);
    expect(h.migrations).toEqual([]);
    h.answer([2, 200]);
    expect(h.migrations).toEqual(['vm3:0->1']);
  });

  it('takes the lowest VM id among equally dirty VMs', () => {
    const h = harness({ probes_per_round: 3 });
    h.rebalancer.round();
    h.answer([2, 50], [1, 50], [0, 80]);
    expect(h.migrations).toEqual(['vm1:0->1']);
  });

  it('does nothing while the loads differ by no more than the threshold', () => {
    const h = harness({ threshold: 0.5 });
    h.rebalancer.round();
    expect(h.pending.size).toBe(0);
  });

  it('considers only hosts that are up', () => {
    const h = harness({ probes_per_round: 1 });
    h.hosts.setState(0, 'draining');
    h.hosts.setState(1, 'upgrading');
    h.rebalancer.round();
    expect(h.pending.size).toBe(0);
  });

  it('does not start when either host has no migration slot', () => {
    const h = harness();
    h.hosts.reserve(h.fleet.vms[5]!, 2, 1);
    h.rebalancer.round();
    expect(h.pending.size).toBe(0);
  });

  it('does not move the VM when the destination is no longer up or has no inbound slot left', () => {
    const down = harness({ probes_per_round: 1 });
    down.rebalancer.round();
    down.hosts.setState(1, 'failed');
    down.answer([0, 1]);
    expect(down.migrations).toEqual([]);

    const taken = harness({ probes_per_round: 1 });
    taken.rebalancer.round();
    taken.hosts.reserve(taken.fleet.vms[5]!, 2, 1);
    taken.answer([0, 1]);
    expect(taken.migrations).toEqual([]);
  });

  it('does not move a VM that has left the host meanwhile', () => {
    const h = harness({ probes_per_round: 1 });
    h.rebalancer.round();
    h.hosts.reserve(h.fleet.vms[0]!, 0, 2);
    h.hosts.release(h.fleet.vms[0]!, 0, 2, true);
    h.answer([0, 1]);
    expect(h.migrations).toEqual([]);
  });
});
