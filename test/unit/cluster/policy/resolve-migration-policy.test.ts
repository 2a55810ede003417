import { describe, expect, it } from 'vitest';
import { policySettingsFor } from '../../../../shared/src/cluster/fleet/job-factory.js';
import { resolveMigrationPolicy, UNLIMITED_BANDWIDTH_BYTES_PER_S } from '../../../../shared/src/cluster/policy/resolve-migration-policy.js';
import { scenarioSchema, type Scenario } from '../../../../shared/src/cluster/scenario/scenario-schema.js';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const GBE = 1e9 / 8;

function scenario(fields: { preset?: string; migration?: Record<string, unknown>; maintenance?: Record<string, unknown>; dirtyRing?: boolean } = {}): Scenario {
  return scenarioSchema.parse({
    name: 'p',
    cluster: { host_classes: [{ name: 'a', count: 4, cores: 16, memory: '256GiB', nic: '25Gbit/s' }] },
    vms: { per_host: 1, ram: '8GiB', vcpus: 4, workloads: [{ workload: { kind: 'idle' } }], ...(fields.dirtyRing ? { dirty_ring_size: 4096 } : {}) },
    ...(fields.migration ? { migration: fields.migration } : {}),
    policies: { ...(fields.preset ? { preset: fields.preset } : {}), maintenance: { wave_size: 1, ...fields.maintenance } },
  });
}

function issues(fields: Parameters<typeof scenario>[0]): { path: string; message: string }[] {
  try {
    scenario(fields);
    return [];
  } catch (e) {
    return (e as { issues: { path: PropertyKey[]; message: string }[] }).issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  }
}

describe('resolveMigrationPolicy without a preset: today\'s settings', () => {
  it('defaults: 1 out and 1 in, no cluster limit, 128 MiB/s, 300 ms constant, no timeout, abort, no auto-converge', () => {
    const p = resolveMigrationPolicy(scenario());
    expect([p.outboundLimit(25 * GBE), p.inboundLimit(GBE), p.maxPerCluster]).toEqual([1, 1, null]);
    expect([p.bandwidthPerMigration, p.downtimeLimitS, p.timeoutS(8 * GiB), p.timeoutAction, p.autoConverge, p.postcopy, p.progressTimeoutS]).toEqual([128 * MiB, 0.3, null, 'abort', false, true, null]);
    expect(p.downtimeSchedule(8 * GiB)).toEqual([]);
    expect(Object.values(p.origin).every((o) => o === 'default')).toBe(true);
  });

  it("the scenario's keys as given", () => {
    const p = resolveMigrationPolicy(scenario({ migration: { max_bandwidth: '1GiB/s', downtime_limit: '500ms', timeout: '20m', timeout_action: 'pause', auto_converge: true }, maintenance: { max_outbound: 3, max_inbound: 2, max_per_cluster: 7 } }));
    expect([p.outboundLimit(GBE), p.inboundLimit(GBE), p.maxPerCluster, p.bandwidthPerMigration, p.downtimeLimitS, p.timeoutS(GiB), p.timeoutAction, p.autoConverge]).toEqual([3, 2, 7, GiB, 0.5, 1200, 'pause', true]);
    expect(p.origin.bandwidthPerMigration).toBe('scenario');
    expect(p.origin.progressTimeoutS).toBe('default');
  });

  it('timeout_per_gib and downtime_steps size the VM as Nova does (at least 2 GiB)', () => {
    const p = resolveMigrationPolicy(scenario({ migration: { timeout_per_gib: '100s', downtime_steps: { steps: 5, delay_per_gib: '10s' } } }));
    expect(p.timeoutS(GiB)).toBe(200);
    expect(p.timeoutS(8 * GiB)).toBe(800);
    // 300 ms in 5 steps: base 60 ms, offset (300 - 60) / 5 = 48 ms, every 10 s × 8 GiB = 80 s.
    expect(p.downtimeSchedule(8 * GiB)).toEqual([
      { after_s: 0, limit_s: 0.06 },
      { after_s: 80, limit_s: 0.108 },
      { after_s: 160, limit_s: 0.156 },
      { after_s: 240, limit_s: 0.204 },
      { after_s: 320, limit_s: 0.252 },
      { after_s: 400, limit_s: 0.3 },
    ]);
  });
});

describe('each preset resolves to its documented numbers', () => {
  it('nova: 1 out, no inbound or cluster limit, unlimited bandwidth, 50 ms → 500 ms in 10 steps of 300 s for 4 GiB, 800 s × max(2, GiB)', () => {
    const p = resolveMigrationPolicy(scenario({ preset: 'nova' }));
    expect([p.outboundLimit(25 * GBE), p.inboundLimit(25 * GBE), p.maxPerCluster]).toEqual([1, null, null]);
    expect(p.bandwidthPerMigration).toBe(UNLIMITED_BANDWIDTH_BYTES_PER_S);
    const steps = p.downtimeSchedule(4 * GiB);
    expect(steps).toHaveLength(11);
    expect(steps[0]).toEqual({ after_s: 0, limit_s: 0.05 });
    expect(steps[1]).toEqual({ after_s: 300, limit_s: 0.095 });
    expect(steps[10]).toEqual({ after_s: 3000, limit_s: 0.5 });
    expect(p.downtimeLimitS).toBe(0.5);
    expect([p.timeoutS(GiB), p.timeoutS(4 * GiB), p.timeoutS(16 * GiB)]).toEqual([1600, 3200, 12800]);
    expect([p.timeoutAction, p.autoConverge, p.postcopy, p.progressTimeoutS]).toEqual(['abort', false, false, null]);
    expect(p.origin.outboundLimit).toBe('preset');
  });

  it('kubevirt: 2 out per node, 5 per cluster, 150 s per GiB, progress timeout 150 s, 300 ms constant', () => {
    const p = resolveMigrationPolicy(scenario({ preset: 'kubevirt' }));
    expect([p.outboundLimit(25 * GBE), p.inboundLimit(25 * GBE), p.maxPerCluster]).toEqual([2, null, 5]);
    expect([p.timeoutS(GiB), p.timeoutS(8 * GiB)]).toEqual([150, 1200]);
    expect([p.downtimeLimitS, p.progressTimeoutS, p.autoConverge]).toEqual([0.3, 150, false]);
    expect(p.downtimeSchedule(8 * GiB)).toEqual([]);
  });

  it('kubevirt-hco: 1 out per node, 5 per cluster, 20 s per GiB', () => {
    const p = resolveMigrationPolicy(scenario({ preset: 'kubevirt-hco' }));
    expect([p.outboundLimit(25 * GBE), p.maxPerCluster, p.timeoutS(8 * GiB)]).toEqual([1, 5, 160]);
  });

  it('vsphere: 8 out and 8 in, capped at 4 on 1 GbE, auto-converge, 1 s, no timeout', () => {
    const p = resolveMigrationPolicy(scenario({ preset: 'vsphere' }));
    expect([p.outboundLimit(10 * GBE), p.inboundLimit(25 * GBE)]).toEqual([8, 8]);
    expect([p.outboundLimit(GBE), p.inboundLimit(GBE)]).toEqual([4, 4]);
    expect([p.autoConverge, p.downtimeLimitS, p.timeoutS(64 * GiB), p.maxPerCluster]).toEqual([true, 1, null, null]);
  });

  it("the scenario's keys override the preset's (and are not capped by it)", () => {
    const p = resolveMigrationPolicy(scenario({ preset: 'vsphere', migration: { downtime_limit: '300ms', max_bandwidth: '1Gbit/s' }, maintenance: { max_outbound: 6 } }));
    expect([p.outboundLimit(GBE), p.inboundLimit(GBE), p.downtimeLimitS, p.bandwidthPerMigration]).toEqual([6, 4, 0.3, GBE]);
    expect([p.origin.outboundLimit, p.origin.inboundLimit, p.origin.downtimeLimitS]).toEqual(['scenario', 'preset', 'scenario']);
    const nova = resolveMigrationPolicy(scenario({ preset: 'nova', migration: { downtime_limit: '1s', timeout: null } }));
    expect(nova.downtimeSchedule(4 * GiB)[0]).toEqual({ after_s: 0, limit_s: 0.1 });
    expect(nova.timeoutS(4 * GiB)).toBeNull();
  });
});

describe('job settings from the policy (policySettingsFor)', () => {
  it('without a preset: the job settings the scenario gave before presets, no downtime_steps key', () => {
    const s = scenario({ migration: { max_bandwidth: '10Gbit/s', downtime_limit: '300ms', auto_converge: true, timeout: '20m' } });
    expect(policySettingsFor(resolveMigrationPolicy(s), 8 * GiB)).toEqual({ max_bandwidth_bytes_per_s: 1.25e9, downtime_limit_s: 0.3, auto_converge: true, timeout_s: 1200, timeout_action: 'abort' });
    expect(policySettingsFor(resolveMigrationPolicy(s), 8 * GiB)).not.toHaveProperty('downtime_steps');
  });

  it('every preset gives settings the job schema accepts', () => {
    for (const preset of ['nova', 'kubevirt', 'kubevirt-hco', 'vsphere']) {
      const settings = policySettingsFor(resolveMigrationPolicy(scenario({ preset })), 64 * GiB);
      const job = migrationJobSchema.parse({ vm: { ram_bytes: 64 * GiB, vcpus: 8, workload: { kind: 'idle' } }, migration: settings });
      expect(job.migration).toMatchObject(settings);
    }
    expect(policySettingsFor(resolveMigrationPolicy(scenario({ preset: 'nova' })), 64 * GiB).downtime_steps).toHaveLength(11);
  });
});

describe('impossible overrides of a preset are issues at their key', () => {
  it('dirty_limit with the auto-converge vsphere turns on', () => {
    const [i] = issues({ preset: 'vsphere', dirtyRing: true, migration: { dirty_limit: '10MiB/s' } });
    expect(i!.path).toBe('migration.dirty_limit');
    expect(i!.message).toContain('preset vsphere turns auto-converge on');
    expect(issues({ preset: 'vsphere', dirtyRing: true, migration: { dirty_limit: '10MiB/s', auto_converge: false } })).toEqual([]);
    expect(issues({ preset: 'kubevirt', dirtyRing: true, migration: { dirty_limit: '10MiB/s', auto_converge: true } })[0]!.path).toBe('migration.dirty_limit');
  });

  it('a post-copy timeout action where the preset does not permit post-copy', () => {
    const [i] = issues({ preset: 'kubevirt', migration: { timeout_action: 'postcopy' } });
    expect(i!.path).toBe('migration.timeout_action');
    expect(i!.message).toContain('does not permit post-copy');
    expect(issues({ preset: 'kubevirt', migration: { timeout_action: 'postcopy', postcopy: 5 } })).toEqual([]);
    expect(issues({ migration: { timeout_action: 'postcopy' } })).toEqual([]);
  });

  it('zero concurrent migrations, both timeout forms, downtime steps finer than a millisecond', () => {
    expect(issues({ preset: 'nova', maintenance: { max_outbound: 0 } })[0]!.path).toBe('policies.maintenance.max_outbound');
    expect(issues({ preset: 'kubevirt', maintenance: { max_per_cluster: 0 } })[0]!.path).toBe('policies.maintenance.max_per_cluster');
    expect(issues({ preset: 'nova', migration: { timeout: '1h', timeout_per_gib: '10s' } })[0]!.path).toBe('migration.timeout_per_gib');
    expect(issues({ migration: { downtime_limit: '10ms', downtime_steps: { steps: 20, delay_per_gib: '1s' } } })[0]!.path).toBe('migration.downtime_steps.steps');
    expect(issues({ preset: 'nova', migration: { downtime_limit: '5ms' } })[0]!.path).toBe('migration.downtime_limit');
    expect(issues({ migration: { downtime_steps: { steps: 64, delay_per_gib: '1s' } } })[0]!.path).toBe('migration.downtime_steps.steps');
  });
});
