import { describe, expect, it } from 'vitest';
import { unitHash } from '../../../../shared/src/engine/rng.js';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';
import { earliestEndS, firstPassSeconds } from '../../../../shared/src/migration/precopy/earliest-end.js';
import { JobFactory, type JobRequest } from '../../../../shared/src/cluster/fleet/job-factory.js';
import type { Fleet } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { scenarioSchema, type Scenario } from '../../../../shared/src/cluster/scenario/scenario-schema.js';
import { fleetOf, GiB, scenarioWith } from './fleet-fixtures.js';

/** The salts are part of a run's identity: changing one changes every cancellation and seed. */
const SALT_CANCEL = 0x43414e43;
const SALT_CANCEL_AT = 0x41544341;
const SALT_SEED = 0x53454544;

const fleet: Fleet = fleetOf(
  [
    { memoryBytes: 256 * GiB, vcpus: 64, nicBytesPerS: 3e9 },
    { memoryBytes: 256 * GiB, vcpus: 64, nicBytesPerS: 1e9 },
    { memoryBytes: 256 * GiB, vcpus: 64, nicBytesPerS: 2e9 },
  ],
  [
    { ramBytes: 8 * GiB, vcpus: 4, host: 0 },
    { ramBytes: 16 * GiB, vcpus: 8, host: 1 },
  ],
);

function factory(s: Scenario, failureAt: ReadonlyMap<number, number> = new Map()): JobFactory {
  return new JobFactory(s, fleet, 'run-x', failureAt);
}

const migration = (dst: number, attempt = 1): JobRequest => ({ purpose: 'maintenance', vm: fleet.vms[0]!, src: 0, dst, kind: 'migration', attempt });
const probe: JobRequest = { purpose: 'probe', vm: fleet.vms[1]!, src: 1, dst: null, kind: 'dirty-rate-probe', attempt: 3 };

describe('JobFactory', () => {
  it('numbers jobs in order and names them after run, purpose, VM, attempt, kind and serial', () => {
    const f = factory(scenarioWith());
    expect(f.submitted).toBe(0);
    const a = f.build(migration(1, 2), 0);
    const b = f.build(probe, 0);
    expect([a.serial, b.serial, f.submitted]).toEqual([0, 1, 2]);
    expect(a.id).toBe('run-x.maintenance-vm0-a2-mig-s0');
    expect(b.id).toBe('run-x.probe-vm1-a3-probe-s1');
  });

  it('builds jobs the job schema accepts as they are', () => {
    const f = factory(scenarioWith({ events: { cancellation_probability: 1, host_failures: [{ host: 1, at: 100 }] } }), new Map([[1, 100]]));
    for (const built of [f.build(migration(1), 5), f.build(probe, 5)]) expect(migrationJobSchema.parse(built.job)).toEqual(built.job);
  });

  it('gives a migration the smaller of the two NICs (the fabric shares it), a probe no link', () => {
    const f = factory(scenarioWith(), new Map());
    expect(f.build(migration(1), 0).job.migration.link_bandwidth_bytes_per_s).toBe(1e9);
    expect(f.build(migration(2), 0).job.migration.link_bandwidth_bytes_per_s).toBe(2e9);
    expect(f.build(probe, 0).job.migration.link_bandwidth_bytes_per_s).toBeNull();
  });

  it('draws each job seed from the scenario seed and the serial', () => {
    const s = scenarioWith({ seed: 42 });
    const f = factory(s);
    for (let serial = 0; serial < 5; serial++) expect(f.build(migration(1), 0).job.seed).toBe((unitHash(42, SALT_SEED, serial) * 2 ** 31) >>> 0);
  });

  it('cancels migrations with the scenario probability, within their first pass, by draws on the serial', () => {
    const s = scenarioWith({ seed: 7, migration: { max_bandwidth: '10Gbit/s' }, events: { cancellation_probability: 0.5 } });
    const f = factory(s);
    const firstPass = firstPassSeconds(8 * GiB, s.vms.zero_fraction, Math.min(s.migration.max_bandwidth, 1e9));
    let cancelled = 0;
    for (let serial = 0; serial < 200; serial++) {
      const cancelAt = f.build(migration(1), 0).job.migration.cancel_at_s;
      if (unitHash(7, SALT_CANCEL, serial) < 0.5) {
        cancelled++;
        expect(cancelAt).toBe(firstPass * (0.05 + 0.95 * unitHash(7, SALT_CANCEL_AT, serial)));
        expect(cancelAt).toBeGreaterThanOrEqual(0.05 * firstPass);
        expect(cancelAt).toBeLessThan(firstPass);
      } else {
        expect(cancelAt).toBeNull();
      }
    }
    expect(cancelled).toBeGreaterThan(50);
    expect(cancelled).toBeLessThan(150);
  });

  it('never cancels probes, nor migrations when the probability is 0', () => {
    expect(factory(scenarioWith({ events: { cancellation_probability: 1 } })).build(probe, 0).job.migration.cancel_at_s).toBeNull();
    const f = factory(scenarioWith());
    for (let i = 0; i < 50; i++) expect(f.build(migration(1), 0).job.migration.cancel_at_s).toBeNull();
  });

  it('tells a migration when its destination fails, if that is not past', () => {
    const f = factory(scenarioWith(), new Map([[1, 100]]));
    expect(f.build(migration(1), 30).job.migration.fail_at_s).toBe(70);
    expect(f.build(migration(1), 100).job.migration.fail_at_s).toBe(0);
    expect(f.build(migration(1), 101).job.migration.fail_at_s).toBeNull();
    expect(f.build(migration(2), 30).job.migration.fail_at_s).toBeNull();
    expect(f.build(probe, 30).job.migration.fail_at_s).toBeNull();
  });

  it('runs jobs no further than the horizon, and for at least a second', () => {
    const f = factory(scenarioWith({ horizon: 1000 }));
    expect(f.build(migration(1), 400).job.migration.horizon_s).toBe(600);
    expect(f.build(migration(1), 999.5).job.migration.horizon_s).toBe(1);
  });

  it('sets the lower bound to the start plus the earliest end of the job', () => {
    const f = factory(scenarioWith({ migration: { timeout: '10s' }, policies: { probes: { every: 60, vms_per_round: 1, calc_time: 2 } }, events: { cancellation_probability: 1 } }));
    for (const request of [migration(1), migration(2), probe]) {
      const built = f.build(request, 50);
      expect(built.lowerBoundS).toBe(50 + earliestEndS(built.job));
    }
    expect(f.build(probe, 50).lowerBoundS).toBe(52);
  });

  it("takes QEMU's settings into the job: dirty ring, multifd, post-copy, the timeout action, the probe mode", () => {
    const s = scenarioWith({
      vms: { per_host: 1, ram: '8GiB', vcpus: 4, dirty_ring_size: 4096, workloads: [{ workload: { kind: 'idle' } }] },
      migration: { dirty_limit: '1MB/s', multifd_channels: 2, postcopy: 3, timeout: '10m', timeout_action: 'postcopy' },
      policies: { probes: { every: 60, vms_per_round: 1, mode: 'dirty-ring' } },
    });
    const f = factory(s);
    const job = f.build(migration(1), 0).job;
    expect(job.vm.dirty_ring_size).toBe(4096);
    expect(job.migration).toMatchObject({ dirty_limit_bytes_per_s: 1e6, multifd_channels: 2, postcopy: 3, timeout_s: 600, timeout_action: 'postcopy' });
    expect(f.build(probe, 0).job.probe.mode).toBe('dirty-ring');
  });

  it("a scenario QEMU would refuse is invalid where the setting is: dirty-limit without the ring or with auto-converge, the probe mode the ring forbids", () => {
    const issues = (o: Record<string, unknown>) => {
      const r = scenarioSchema.safeParse({ name: 'x', cluster: { host_classes: [{ name: 'h', count: 1, cores: 4, memory: '64GiB', nic: '10Gbit/s' }] }, vms: { total: 1, ram: '4GiB', vcpus: 2, workloads: [{ workload: { kind: 'idle' } }] }, ...o });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ migration: { dirty_limit: '1MB/s' } })).toEqual(["migration.dirty_limit: dirty-limit requires KVM with accelerator property 'dirty-ring-size' set"]);
    expect(issues({ vms: { total: 1, ram: '4GiB', vcpus: 2, dirty_ring_size: 1024, workloads: [{ workload: { kind: 'idle' } }] }, migration: { dirty_limit: '1MB/s', auto_converge: true } })).toEqual([
      'migration.dirty_limit: dirty-limit conflicts with auto-converge',
    ]);
    expect(issues({ policies: { probes: { every: 60, vms_per_round: 1, mode: 'dirty-ring' } } })[0]).toMatch(/^policies\.probes\.mode: mode dirty-ring requires/);
    expect(issues({ vms: { total: 1, ram: '4GiB', vcpus: 2, dirty_ring_size: 1000, workloads: [{ workload: { kind: 'idle' } }] } })[0]).toMatch(/^vms\.dirty_ring_size: /);
  });

  it('takes the VM, the scenario settings and the source host kernel into the job', () => {
    const s = scenarioWith({ vms: { per_host: 1, ram: '8GiB', vcpus: 4, thp_coverage: 0.5, zero_fraction: 0.25, workloads: [{ workload: { kind: 'idle' } }] } });
    const job = factory(s).build(migration(1), 0).job;
    expect(job.vm).toEqual({ ram_bytes: 8 * GiB, vcpus: 4, backing: s.vms.backing, thp_coverage: 0.5, zero_fraction: 0.25, workload: { kind: 'idle', utilisation: 0, touched_fraction: 1, access: 'random' }, dirty_ring_size: null });
    expect(job.kernel).toBe(fleet.hosts[0]!.kernel);
    expect(job.migration.timeout_action).toBe('abort');
  });
});
