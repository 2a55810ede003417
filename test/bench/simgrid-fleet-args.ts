import { resolveMigrationPolicy } from '../../shared/src/cluster/policy/resolve-migration-policy.js';
import type { Scenario } from '../../shared/src/cluster/scenario/scenario-schema.js';

/**
 * A migsim fleet scenario as the SimGrid peer harness's arguments (`simgrid-fleet`, README.md of the harness), for
 * the fleet benchmark: what maps, and in `unmapped` what does not and what stands in for it.
 */
export interface SimgridFleetArgs {
  readonly args: string[];
  readonly unmapped: string[];
}

const MiB = 2 ** 20;

/** A `{ choices, weights? }` distribution's mean, or the number itself. */
function mean(v: number | { readonly choices: readonly number[]; readonly weights?: readonly number[] | undefined }): number {
  if (typeof v === 'number') return v;
  const w = v.weights ?? v.choices.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return v.choices.reduce((a, c, i) => a + c * w[i]!, 0) / total;
}

export function simgridFleetArgs(s: Scenario): SimgridFleetArgs {
  const classes = s.cluster.host_classes;
  if (classes.length !== 1) throw new Error('simgridFleetArgs: one host class only (the harness has one kind of PM)');
  const hc = classes[0]!;
  const mt = s.policies.maintenance;
  if (!mt) throw new Error('simgridFleetArgs: the scenario has no maintenance policy (the harness runs a rolling evacuation)');
  const policy = resolveMigrationPolicy(s);
  const ramMiB = Math.round(mean(s.vms.ram) / MiB);
  const vcpus = Math.round(mean(s.vms.vcpus));
  const speedMiBps = Math.round(policy.bandwidthPerMigration / MiB);
  // The workloads' weighted mean dirty rate, as the plugin's dirty-page intensity (percent of the migration speed).
  const totalWeight = s.vms.workloads.reduce((a, w) => a + w.weight, 0);
  const dirty = s.vms.workloads.reduce((a, w) => a + w.weight * ('dirty_rate' in w.workload ? Number(w.workload.dirty_rate) : 0), 0) / totalWeight;
  const dp = Math.round((100 * dirty) / policy.bandwidthPerMigration);
  const concurrency = policy.outboundLimit(hc.nic) ?? s.vms.per_host;
  const args = [
    `--hosts=${hc.count}`,
    `--vms-per-host=${s.vms.per_host}`,
    `--ram-mib=${ramMiB}`,
    `--cores-per-vm=${vcpus}`,
    `--host-cores=${hc.cores}`,
    `--dp-intensity=${dp}`,
    `--mig-speed-mibps=${speedMiBps}`,
    `--link-bandwidth-gbps=${(hc.nic * 8) / 1e9}`,
    `--concurrency=${concurrency}`,
    `--waves=${mt.wave_size}`,
    ...(mt.hosts !== undefined ? [`--evac-hosts=${mt.hosts}`] : []),
  ];
  const net = s.cluster.network;
  const unmapped = [
    `racks and uplinks (hosts_per_rack ${net?.hosts_per_rack ?? hc.count}, tor_uplink ${JSON.stringify(net?.tor_uplink ?? null)}): the harness has one optional backbone link only; run without one (a non-blocking switch), so SimGrid's flows meet only at the NICs`,
    `VM sizes and vCPUs: every VM gets the mean (${ramMiB} MiB, ${vcpus} vCPUs)`,
    `workloads: every VM dirties the weighted mean, ${(dirty / MiB).toFixed(1)} MiB/s, as dp-intensity ${dp} % of the ${speedMiBps} MiB/s cap (the plugin ties the dirty rate to the cap, not to the achieved rate)`,
    `max_inbound ${policy.inboundLimit(hc.nic) ?? 'none'}: the harness has no inbound limit; destinations are round-robin`,
    'upgrade_time, downtime_limit (SimGrid: 30 ms), auto_converge, timeout, cancellations, MMU bailouts, THP and zero pages: not in the harness',
    'waves: the harness evacuates every VM a wave host holds, including those it received earlier, so it runs more migrations than migsim',
  ];
  return { args, unmapped };
}
