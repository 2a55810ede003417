import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';
import type { MigrationResult } from '../../../../shared/src/migration/job/migration-result.js';
import { runMigrationJob } from '../../../../shared/src/migration/job/run-migration-job.js';
import { scenarioSchema, type Scenario } from '../../../../shared/src/cluster/scenario/scenario-schema.js';
import type { Fleet, Host, Vm } from '../../../../shared/src/cluster/fleet/build-fleet.js';

export const GiB = 2 ** 30;

/** A scenario with one host class and the schema's defaults, changed by `overrides` (YAML units accepted). */
export function scenarioWith(overrides: Record<string, unknown> = {}): Scenario {
  return scenarioSchema.parse({
    name: 'fixture',
    cluster: { host_classes: [{ name: 'std', count: 4, cores: 16, memory: '256GiB', nic: '25Gbit/s' }] },
    vms: { per_host: 2, ram: '8GiB', vcpus: 4, workloads: [{ workload: { kind: 'idle' } }] },
    ...overrides,
  });
}

/** A host for a hand-made fleet. */
export interface HostSpec {
  readonly memoryBytes: number;
  readonly vcpus: number;
  readonly nicBytesPerS?: number;
}

/** A VM for a hand-made fleet, on host `host` (-1: unplaced). */
export interface VmSpec {
  readonly ramBytes: number;
  readonly vcpus: number;
  readonly host: number;
}

/** A fleet built by hand, VMs numbered in the order given. */
export function fleetOf(hosts: readonly HostSpec[], vms: readonly VmSpec[]): Fleet {
  const kernel = scenarioWith().cluster.host_classes[0]!.kernel;
  return {
    hosts: hosts.map((h, id): Host => ({ id, className: 'std', memoryBytes: h.memoryBytes, vcpuCapacity: h.vcpus, nicBytesPerS: h.nicBytesPerS ?? 1e9, kernel })),
    vms: vms.map((v, id): Vm => ({ id, ramBytes: v.ramBytes, vcpus: v.vcpus, workload: { kind: 'idle', utilisation: 0, touched_fraction: 1, access: 'random' } })),
    placement: Int32Array.from(vms, (v) => v.host),
  };
}

let baseResult: MigrationResult | undefined;

/** A real migration result (a small idle VM's) with `fields` changed. */
export function resultWith(fields: Partial<MigrationResult>): MigrationResult {
  baseResult ??= runMigrationJob(migrationJobSchema.parse({ vm: { ram_bytes: GiB, vcpus: 1, workload: { kind: 'idle' } } }), DEFAULT_PROFILE);
  return { ...baseResult, ...fields };
}
