import { QEMU_DEFAULTS } from '../../migration/precopy/qemu-defaults.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { completionTimeoutS, downtimeSchedule, OPERATOR_PRESETS, vsphereNetworkLimit, type MigrationPolicy, type OperatorPresetName } from './operator-presets.js';

/**
 * libvirt's "unlimited" migration bandwidth, bytes/s: `QEMU_DOMAIN_MIG_BANDWIDTH_MAX` = LLONG_MAX / 1 MiB, in MiB/s,
 * which libvirt hands to QEMU's max-bandwidth when none is set (as Nova's live_migration_bandwidth = 0 and KubeVirt's
 * bandwidthPerMigration "0Mi" leave it). Finite, so jobs validate; the link and the streams then decide.
 */
export const UNLIMITED_BANDWIDTH_BYTES_PER_S = 8796093022207 * 2 ** 20;

/** Nova's floor on a VM's size in GiB for its downtime steps and completion timeout (`_live_migration_data_gb`). */
const NOVA_FLOOR_GIB = 2;

/** A downtime step as the job takes it: from `after_s` after the start, the downtime limit is `limit_s`. */
export interface DowntimeStep {
  readonly after_s: number;
  readonly limit_s: number;
}

/** Where a resolved setting came from: the scenario's own key, the preset, or the default without a preset. */
export type PolicyOrigin = 'preset' | 'scenario' | 'default';

export const POLICY_KEYS = [
  'outboundLimit',
  'inboundLimit',
  'maxPerCluster',
  'bandwidthPerMigration',
  'downtimeLimitS',
  'downtimeSchedule',
  'timeoutS',
  'timeoutAction',
  'autoConverge',
  'postcopy',
  'progressTimeoutS',
] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

/** The migration policy a scenario runs under: its preset's settings with the scenario's own keys over them. */
export interface ResolvedPolicy {
  readonly preset: OperatorPresetName | null;
  /** Concurrent outbound migrations of a host with this NIC; null: no limit. */
  outboundLimit(nicBytesPerS: number): number | null;
  /** Concurrent inbound migrations of a host with this NIC; null: no limit. */
  inboundLimit(nicBytesPerS: number): number | null;
  /** Concurrent migrations in the whole cluster; null: no limit. */
  readonly maxPerCluster: number | null;
  /** QEMU max-bandwidth of each migration, bytes/s ({@link UNLIMITED_BANDWIDTH_BYTES_PER_S} for "none"). */
  readonly bandwidthPerMigration: number;
  /** The downtime limit: the final one when it is raised in steps. */
  readonly downtimeLimitS: number;
  /** The downtime steps of a VM of `ramBytes`; empty when the limit is constant. */
  downtimeSchedule(ramBytes: number): DowntimeStep[];
  /** The completion timeout of a VM of `ramBytes`, s; null: none. */
  timeoutS(ramBytes: number): number | null;
  readonly timeoutAction: MigrationPolicy['timeoutAction'];
  readonly autoConverge: boolean;
  /** Whether post-copy is permitted (the timeout may switch to it, `migration.postcopy` may be set). */
  readonly postcopy: boolean;
  /** Abort after this long without progress, s; null: none. Jobs do not model it yet. */
  readonly progressTimeoutS: number | null;
  readonly origin: Readonly<Record<PolicyKey, PolicyOrigin>>;
}

/**
 * The scenario's migration policy. Without `policies.preset` every setting is what the scenario says or today's
 * default (max_outbound and max_inbound 1, max_bandwidth 128 MiB/s, downtime_limit 300 ms, no timeout, abort,
 * no auto-converge, no cluster limit, post-copy permitted), so a scenario without a preset runs exactly as before
 * presets existed. With one, the preset's value applies to every key the scenario leaves unset. Downtime steps and
 * `timeout_per_gib` size a VM as Nova does (at least 2 GiB) without a preset, and with the preset's floor otherwise.
 */
export function resolveMigrationPolicy(scenario: Scenario): ResolvedPolicy {
  const name = scenario.policies.preset ?? null;
  const p: MigrationPolicy | null = name === null ? null : OPERATOR_PRESETS[name];
  const m = scenario.migration;
  const mt = scenario.policies.maintenance;
  const origin = {} as Record<PolicyKey, PolicyOrigin>;
  /** The scenario's value if set, else the preset's if there is one, else the default; records where it came from. */
  const pick = <T>(key: PolicyKey, own: T | undefined, preset: (q: MigrationPolicy) => T, fallback: T): T => {
    origin[key] = own !== undefined ? 'scenario' : p ? 'preset' : 'default';
    return own !== undefined ? own : p ? preset(p) : fallback;
  };

  const vsphere = name === 'vsphere';
  const hostLimit = (key: 'outboundLimit' | 'inboundLimit', own: number | undefined, preset: number | null): ((nic: number) => number | null) => {
    const fixed = pick<number | null>(key, own, () => preset, 1);
    if (own === undefined && vsphere && fixed !== null) return (nic) => Math.min(fixed, vsphereNetworkLimit(nic));
    return () => fixed;
  };
  const outboundLimit = hostLimit('outboundLimit', mt?.max_outbound, p?.maxOutboundPerHost ?? null);
  const inboundLimit = hostLimit('inboundLimit', mt?.max_inbound, p?.maxInboundPerHost ?? null);
  const maxPerCluster = pick('maxPerCluster', mt?.max_per_cluster, (q) => q.maxPerCluster, null);
  const bandwidthPerMigration = pick('bandwidthPerMigration', m.max_bandwidth, (q) => q.bandwidthPerMigration ?? UNLIMITED_BANDWIDTH_BYTES_PER_S, QEMU_DEFAULTS.maxBandwidthBytesPerS);
  const downtimeLimitS = pick('downtimeLimitS', m.downtime_limit, (q) => q.downtimeLimitS, QEMU_DEFAULTS.downtimeLimitS);
  const timeoutAction = pick('timeoutAction', m.timeout_action, (q) => q.timeoutAction, 'abort');
  const autoConverge = pick('autoConverge', m.auto_converge, (q) => q.autoConverge, false);
  const progressTimeoutS = pick('progressTimeoutS', undefined, (q) => q.progressTimeoutS, null);
  const postcopy = pick('postcopy', m.postcopy === null ? undefined : true, (q) => q.postcopy, true);

  const floorGiB = p ? p.completionFloorGiB : NOVA_FLOOR_GIB;
  const ownSteps = m.downtime_steps ? { steps: m.downtime_steps.steps, delayPerGiBS: m.downtime_steps.delay_per_gib } : undefined;
  const steps = pick('downtimeSchedule', ownSteps, (q) => q.downtimeSteps, null);
  const stepPolicy = steps === null ? null : { ...(p ?? OPERATOR_PRESETS.nova), downtimeLimitS, downtimeSteps: steps, completionFloorGiB: floorGiB };

  const ownTimeout = m.timeout !== undefined ? { fixed: m.timeout } : m.timeout_per_gib !== undefined ? { perGiB: m.timeout_per_gib } : undefined;
  const timeout = pick<{ fixed: number | null } | { perGiB: number }>('timeoutS', ownTimeout, (q) => ({ perGiB: q.completionTimeoutPerGiBS ?? 0 }), { fixed: null });
  const timeoutPolicy = 'perGiB' in timeout ? { ...(p ?? OPERATOR_PRESETS.nova), completionTimeoutPerGiBS: timeout.perGiB, completionFloorGiB: floorGiB } : null;

  return {
    preset: name,
    outboundLimit,
    inboundLimit,
    maxPerCluster,
    bandwidthPerMigration,
    downtimeLimitS,
    downtimeSchedule: (ramBytes) => (stepPolicy === null ? [] : downtimeSchedule(stepPolicy, ramBytes).map((s) => ({ after_s: s.afterS, limit_s: s.limitS }))),
    timeoutS: (ramBytes) => ('fixed' in timeout ? timeout.fixed : completionTimeoutS(timeoutPolicy!, ramBytes)),
    timeoutAction,
    autoConverge,
    postcopy,
    progressTimeoutS,
    origin,
  };
}
