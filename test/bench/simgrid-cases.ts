import { buildFleet } from '../../shared/src/cluster/fleet/build-fleet.js';
import { EmbeddedTransport } from '../../shared/src/cluster/fleet/embedded-transport.js';
import type { FleetRunResult, JobRecord } from '../../shared/src/cluster/fleet/fleet-run-result.js';
import { FleetSimulation } from '../../shared/src/cluster/fleet/fleet-simulation.js';
import { scenarioSchema, type Scenario } from '../../shared/src/cluster/scenario/scenario-schema.js';

/**
 * The network-contention cases C1 and C3 of the SimGrid peer harness (`contention.sh`), as migsim scenarios and as
 * `simgrid-fleet` arguments. Used by `simgrid-side-by-side.ts` (both simulators) and by the unit test
 * `test/unit/cluster/fleet/simgrid-cases.test.ts` (migsim against the fluid closed form).
 */

/** Every case: 8 GiB idle VMs, 10 Gbit/s NICs. */
export const RAM_MIB = 8192;
export const NIC_GBPS = 10;

/** Arguments shared by every SimGrid case (contention.sh's COMMON, minus the per-migration lines we do not read). */
const SIMGRID_COMMON = [`--ram-mib=${RAM_MIB}`, `--link-bandwidth-gbps=${NIC_GBPS}`, '--link-latency-us=50', '--mig-speed-mibps=0', '--dp-intensity=0'];

export interface SimgridCase {
  /** `C1`, `C3`. */
  readonly id: string;
  /** k for C1; the backbone in Gbit/s for C3 (0: none). */
  readonly variant: number;
  /** Human label of the variant. */
  readonly label: string;
  /** The simgrid-fleet arguments (without `--cfg`). */
  readonly simgridArgs: readonly string[];
  /** The same case as a migsim scenario. */
  readonly scenario: () => Scenario;
  /** The variant every ratio of the case is taken against (C1: k=1; C3: no backbone). */
  readonly reference: number;
}

function base(name: string, hosts: number, perHost: number, network: Record<string, unknown> | undefined, maintenance: Record<string, unknown>): Scenario {
  return scenarioSchema.parse({
    name,
    horizon: '2d',
    cluster: {
      host_classes: [{ name: 'std', count: hosts, cores: 32, memory: '256GiB', nic: `${NIC_GBPS}Gbit/s` }],
      ...(network ? { network } : {}),
    },
    vms: { per_host: perHost, ram: `${RAM_MIB}MiB`, vcpus: 4, workloads: [{ workload: { kind: 'idle' } }] },
    // Uncapped, as SimGrid's --mig-speed-mibps=0; one stream is still capped at 1.25 GB/s (STREAM.bytesPerCoreS).
    migration: { max_bandwidth: '100Gbit/s' },
    policies: { maintenance },
  });
}

/**
 * C1, shared NIC: host 0 holds k idle VMs and migrates them all at once to k other hosts. migsim places VMs on every
 * host (`vms.per_host`), so the k receivers hold k VMs each too; idle VMs there take nothing from the network.
 */
export function c1Scenario(k: number): Scenario {
  return base(`simgrid-C1-k${k}`, k + 1, k, undefined, { wave_size: 1, hosts: 1, max_outbound: k, max_inbound: 1 });
}

/**
 * C3, shared backbone: hosts 0-7 each migrate one idle VM at once to hosts 8-15, every host in its own rack with no
 * uplink limit, so every flow crosses the spine (`bbGbps` Gbit/s; 0: no spine).
 */
export function c3Scenario(bbGbps: number): Scenario {
  const network = { hosts_per_rack: 1, tor_uplink: null, spine: bbGbps > 0 ? `${bbGbps}Gbit/s` : null };
  return base(`simgrid-C3-bb${bbGbps}`, 16, 1, network, { wave_size: 8, hosts: 8, max_outbound: 1, max_inbound: 1 });
}

export const C1_KS = [1, 2, 4] as const;
export const C3_BACKBONES = [20, 80, 0] as const;

export const CASES: readonly SimgridCase[] = [
  ...C1_KS.map(
    (k): SimgridCase => ({
      id: 'C1',
      variant: k,
      label: `k=${k}`,
      simgridArgs: [`--hosts=${k + 1}`, '--vm-hosts=1', `--vms-per-host=${k}`, '--evac-hosts=1', '--wave-size=1', `--concurrency=${k}`, ...SIMGRID_COMMON],
      scenario: () => c1Scenario(k),
      reference: 1,
    }),
  ),
  ...C3_BACKBONES.map(
    (bb): SimgridCase => ({
      id: 'C3',
      variant: bb,
      label: bb > 0 ? `backbone ${bb} Gbit/s` : 'no backbone',
      simgridArgs: ['--hosts=16', '--vm-hosts=8', '--vms-per-host=1', '--evac-hosts=8', '--wave-size=8', '--concurrency=1', ...SIMGRID_COMMON, `--backbone-gbps=${bb}`],
      scenario: () => c3Scenario(bb),
      reference: 0,
    }),
  ),
];

/** The migrations of the case's drained hosts that moved a VM. */
export function drained(r: FleetRunResult, sources: number): JobRecord[] {
  return r.jobs.filter((j) => j.purpose === 'maintenance' && j.src < sources && j.dst !== null && j.result.status === 'completed');
}

export interface MigsimCaseResult {
  readonly migrations: number;
  /** Mean of the migrations' `total_time_s`. */
  readonly meanS: number;
  readonly minS: number;
  readonly maxS: number;
  readonly bytesPerMigration: number;
}

/** Runs a case's scenario embedded and summarises its migrations. */
export async function runMigsimCase(s: Scenario): Promise<MigsimCaseResult> {
  const r = await new FleetSimulation(s, buildFleet(s), 'simgrid-compare', new EmbeddedTransport()).run();
  const sources = s.policies.maintenance!.hosts!;
  const jobs = drained(r, sources);
  const d = jobs.map((j) => j.result.total_time_s);
  return {
    migrations: jobs.length,
    meanS: d.reduce((a, b) => a + b, 0) / Math.max(1, d.length),
    minS: Math.min(...d),
    maxS: Math.max(...d),
    bytesPerMigration: jobs.reduce((a, j) => a + j.result.ram.transferred_bytes, 0) / Math.max(1, jobs.length),
  };
}
