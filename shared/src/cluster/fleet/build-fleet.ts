import { Rng } from '../../engine/rng.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { WorkloadSpec } from '../../migration/workload/workload-spec.js';

export interface Host {
  readonly id: number;
  readonly className: string;
  readonly memoryBytes: number;
  readonly vcpuCapacity: number;
  readonly nicBytesPerS: number;
  readonly kernel: Scenario['cluster']['host_classes'][number]['kernel'];
}

export interface Vm {
  readonly id: number;
  readonly ramBytes: number;
  readonly vcpus: number;
  readonly workload: WorkloadSpec;
}

/** The fleet at the start of a run: hosts, VMs and where each VM runs. */
export interface Fleet {
  readonly hosts: readonly Host[];
  readonly vms: readonly Vm[];
  /** Host of each VM, or -1 when it could not be placed. */
  readonly placement: Int32Array;
}

function pick<T>(rng: Rng, c: T | { choices: T[]; weights?: number[] | undefined }): T {
  if (typeof c !== 'object' || c === null || !('choices' in c)) return c as T;
  const weights = c.weights ?? c.choices.map(() => 1);
  const total = weights.reduce((a, b) => a + b, 0);
  let x = rng.nextFloat() * total;
  for (let i = 0; i < c.choices.length; i++) {
    x -= weights[i]!;
    if (x < 0) return c.choices[i]!;
  }
  return c.choices[c.choices.length - 1]!;
}

/** A scenario workload (human units already parsed) as the job's workload spec. */
function toWorkload(w: Scenario['vms']['workloads'][number]['workload']): WorkloadSpec {
  const activity = { utilisation: w.utilisation, touched_fraction: w.touched_fraction, access: w.access };
  switch (w.kind) {
    case 'idle':
      return { kind: 'idle', ...activity };
    case 'uniform':
      return { kind: 'uniform', dirty_rate_bytes_per_s: w.dirty_rate, working_set: w.working_set, read_share: w.read_share, ...activity };
    case 'hotcold':
      return { kind: 'hotcold', dirty_rate_bytes_per_s: w.dirty_rate, hot_fraction: w.hot_fraction, hot_write_share: w.hot_write_share, read_share: w.read_share, ...activity };
    case 'memstress':
      return { kind: 'memstress', write_percent: w.write_percent, pass_seconds: w.pass_time, ...activity };
  }
}

/** Rounds RAM to whole backing pages (2 MiB, or 1 GiB for 1 GiB HugeTLB). */
function roundRam(bytes: number, backing: string): number {
  const page = backing === 'anonymous_hugetlb_1gb' ? 2 ** 30 : 2 * 2 ** 20;
  return Math.max(page, Math.round(bytes / page) * page);
}

/**
 * Builds the fleet of a scenario: hosts class by class in order, VMs with sizes, vCPUs and workloads drawn from
 * the scenario's distributions with the seeded generator, placed round-robin (VM i first tries host i mod H,
 * then the next hosts) where memory and vCPUs allow. Same scenario and seed, same fleet.
 */
export function buildFleet(s: Scenario): Fleet {
  const hosts: Host[] = [];
  for (const hc of s.cluster.host_classes) {
    for (let i = 0; i < hc.count; i++) {
      hosts.push({
        id: hosts.length,
        className: hc.name,
        memoryBytes: hc.memory,
        vcpuCapacity: Math.floor(hc.cores * hc.cpu_overcommit),
        nicBytesPerS: hc.nic,
        kernel: hc.kernel,
      });
    }
  }
  const count = s.vms.total ?? (s.vms.per_host ?? 0) * hosts.length;
  const rng = Rng.fromSeed(s.seed).fork('vms');
  const vms: Vm[] = [];
  for (let i = 0; i < count; i++) {
    const ram = roundRam(pick(rng, s.vms.ram), s.vms.backing);
    const vcpus = pick(rng, s.vms.vcpus);
    const w = pick(rng, { choices: s.vms.workloads.map((x) => x.workload), weights: s.vms.workloads.map((x) => x.weight) });
    vms.push({ id: i, ramBytes: ram, vcpus, workload: toWorkload(w) });
  }
  const freeMem = hosts.map((h) => h.memoryBytes);
  const freeCpu = hosts.map((h) => h.vcpuCapacity);
  const placement = new Int32Array(count).fill(-1);
  for (const vm of vms) {
    for (let k = 0; k < hosts.length; k++) {
      const h = (vm.id + k) % hosts.length;
      if (freeMem[h]! >= vm.ramBytes && freeCpu[h]! >= vm.vcpus) {
        placement[vm.id] = h;
        freeMem[h]! -= vm.ramBytes;
        freeCpu[h]! -= vm.vcpus;
        break;
      }
    }
  }
  return { hosts, vms, placement };
}
