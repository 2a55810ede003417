/**
 * How an orchestrator drives live migrations, as settings a scenario's `policies.preset` expands into (each one may
 * be overridden). Every default is the project's own, read in its source; `source` names the file.
 */
export interface MigrationPolicy {
  /** Concurrent outbound migrations per source host; null: no limit. */
  readonly maxOutboundPerHost: number | null;
  /** Concurrent inbound migrations per destination host; null: no limit. */
  readonly maxInboundPerHost: number | null;
  /** Concurrent migrations in the whole cluster; null: no limit. */
  readonly maxPerCluster: number | null;
  /** Bandwidth cap of each migration (QEMU max-bandwidth), bytes/s; null: none (libvirt's default is unlimited). */
  readonly bandwidthPerMigration: number | null;
  /** The downtime QEMU may take, s, and how it is raised over time (Nova's downtime steps); null: constant. */
  readonly downtimeLimitS: number;
  readonly downtimeSteps: { readonly steps: number; readonly delayPerGiBS: number } | null;
  /** Completion timeout per GiB of RAM, s (with a floor of `completionFloorGiB`); null: none. */
  readonly completionTimeoutPerGiBS: number | null;
  readonly completionFloorGiB: number;
  /** Abort when no progress (remaining bytes not shrinking) for this long, s; null: none. */
  readonly progressTimeoutS: number | null;
  /** What the completion timeout does. */
  readonly timeoutAction: 'abort' | 'postcopy' | 'pause';
  readonly autoConverge: boolean;
  readonly postcopy: boolean;
  readonly source: string;
}

const MiB = 2 ** 20;

export const OPERATOR_PRESETS = {
  /**
   * OpenStack Nova with the libvirt driver: `nova/conf/compute.py` max_concurrent_live_migrations = 1 (outbound,
   * per compute host; no inbound limit); `nova/conf/libvirt.py` live_migration_bandwidth = 0 (libvirt's default:
   * unlimited, `qemuDomainObjPrivateAlloc` sets migMaxBandwidth = QEMU_DOMAIN_MIG_BANDWIDTH_MAX),
   * live_migration_downtime = 500 ms raised in live_migration_downtime_steps = 10 steps each after
   * live_migration_downtime_delay = 75 s per GiB (`nova/virt/libvirt/migration.py` downtime_steps),
   * live_migration_completion_timeout = 800 s per GiB (floor 2 GiB), live_migration_timeout_action = abort,
   * permit_post_copy and permit_auto_converge False; the progress timeout is deprecated and off.
   */
  nova: {
    maxOutboundPerHost: 1,
    maxInboundPerHost: null,
    maxPerCluster: null,
    bandwidthPerMigration: null,
    downtimeLimitS: 0.5,
    downtimeSteps: { steps: 10, delayPerGiBS: 75 },
    completionTimeoutPerGiBS: 800,
    completionFloorGiB: 2,
    progressTimeoutS: null,
    timeoutAction: 'abort',
    autoConverge: false,
    postcopy: false,
    source: 'nova/conf/compute.py, nova/conf/libvirt.py, nova/virt/libvirt/migration.py',
  },
  /**
   * KubeVirt: `pkg/virt-config/virt-config.go` ParallelOutboundMigrationsPerNodeDefault 2,
   * ParallelMigrationsPerClusterDefault 5, BandwidthPerMigrationDefault "0Mi" (none), MigrationProgressTimeout
   * 150 s, MigrationCompletionTimeoutPerGiB 150 (800 before kubevirt PR #12848, 2024), AllowAutoConverge and
   * AllowPostCopy false (abort at the timeout); the downtime is libvirt's/QEMU's 300 ms.
   */
  kubevirt: {
    maxOutboundPerHost: 2,
    maxInboundPerHost: null,
    maxPerCluster: 5,
    bandwidthPerMigration: null,
    downtimeLimitS: 0.3,
    downtimeSteps: null,
    completionTimeoutPerGiBS: 150,
    completionFloorGiB: 0,
    progressTimeoutS: 150,
    timeoutAction: 'abort',
    autoConverge: false,
    postcopy: false,
    source: 'kubevirt pkg/virt-config/virt-config.go',
  },
  /**
   * The HyperConverged Cluster Operator's defaults over KubeVirt: kubevirt/hyperconverged-cluster-operator PR #4426
   * (2026) moved parallelOutboundMigrationsPerNode 2 → 1 and completionTimeoutPerGiB 150 → 20 ("when you have two
   * migrations ongoing, typically on node drain, they both get half the bandwidth" and the 300 ms downtime cannot be
   * met); parallelMigrationsPerCluster 5, progressTimeout 150, no bandwidth cap.
   */
  'kubevirt-hco': {
    maxOutboundPerHost: 1,
    maxInboundPerHost: null,
    maxPerCluster: 5,
    bandwidthPerMigration: null,
    downtimeLimitS: 0.3,
    downtimeSteps: null,
    completionTimeoutPerGiBS: 20,
    completionFloorGiB: 0,
    progressTimeoutS: 150,
    timeoutAction: 'abort',
    autoConverge: false,
    postcopy: false,
    source: 'kubevirt/hyperconverged-cluster-operator PR #4426',
  },
  /**
   * VMware vSphere (vCenter Server and Host Management, "Limits on Simultaneous Migrations", 6.5/6.7): every vMotion
   * costs 1 against the host's limit of 8 (source and destination alike) and 1 against the vMotion network's, 4 on
   * 1 GbE and 8 on 10 GbE (`vsphereNetworkLimit`); each concurrent vMotion needs at least 250 Mbit/s. vMotion
   * converges by slowing the guest (Stun During Page Send, akin to auto-converge) and has no completion timeout;
   * its switchover target is about a second (assumption: the documented "under one second" as the downtime limit).
   */
  vsphere: {
    maxOutboundPerHost: 8,
    maxInboundPerHost: 8,
    maxPerCluster: null,
    bandwidthPerMigration: null,
    downtimeLimitS: 1,
    downtimeSteps: null,
    completionTimeoutPerGiBS: null,
    completionFloorGiB: 0,
    progressTimeoutS: null,
    timeoutAction: 'abort',
    autoConverge: true,
    postcopy: false,
    source: 'VMware vSphere documentation, Limits on Simultaneous Migrations; Requirements for Concurrent vMotion Migrations',
  },
} as const satisfies Record<string, MigrationPolicy>;

/** vSphere's network limit of concurrent vMotions for a host's vMotion NIC: 4 on 1 GbE, 8 on 10 GbE and faster. */
export function vsphereNetworkLimit(nicBytesPerS: number): number {
  return nicBytesPerS >= 10e9 / 8 ? 8 : 4;
}

export type OperatorPresetName = keyof typeof OPERATOR_PRESETS;
export const OPERATOR_PRESET_NAMES = Object.keys(OPERATOR_PRESETS) as OperatorPresetName[];

/** The completion timeout of a VM of `ramBytes` under a policy, s; null when there is none. */
export function completionTimeoutS(p: MigrationPolicy, ramBytes: number): number | null {
  if (p.completionTimeoutPerGiBS === null || p.completionTimeoutPerGiBS === 0) return null;
  return p.completionTimeoutPerGiBS * Math.max(p.completionFloorGiB, ramBytes / (1024 * MiB));
}

/**
 * Nova's downtime steps for a VM of `ramBytes` (`downtime_steps(data_gb)`): at `afterS` after the start, set the
 * downtime limit to `limitS`; integer seconds and milliseconds as Nova computes them. A single step at 0 when the
 * policy has none.
 */
export function downtimeSchedule(p: MigrationPolicy, ramBytes: number): { afterS: number; limitS: number }[] {
  if (!p.downtimeSteps) return [{ afterS: 0, limitS: p.downtimeLimitS }];
  const dataGb = Math.max(p.completionFloorGiB, ramBytes / (1024 * MiB));
  const downtimeMs = p.downtimeLimitS * 1000;
  const { steps } = p.downtimeSteps;
  const delay = Math.trunc(p.downtimeSteps.delayPerGiBS * dataGb);
  const base = downtimeMs / steps;
  const offset = (downtimeMs - base) / steps;
  return Array.from({ length: steps + 1 }, (_, i) => ({ afterS: Math.trunc(delay * i), limitS: Math.trunc(base + offset * i) / 1000 }));
}
