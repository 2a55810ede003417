import { z } from 'zod';
import { bailoutsSchema, dirtyRingSizeSchema, kernelSchema, MAX_DOWNTIME_STEPS, migrationJobSchema, qemuSettingsIssues, TIMEOUT_ACTIONS } from '../../migration/job/migration-job.js';
import { QEMU_DEFAULTS } from '../../migration/precopy/qemu-defaults.js';
import { PROBE_MODES } from '../../migration/probe/probe-mode.js';
import { BACKING_SOURCES } from '../../kernel/mmu/backing-source.js';
import { workloadActivity, workloadSpecSchema } from '../../migration/workload/workload-spec.js';
import { DRAIN_ORDERS } from '../policy/drain-waves.js';
import { OPERATOR_PRESET_NAMES, OPERATOR_PRESETS, type OperatorPresetName } from '../policy/operator-presets.js';
import { divisorsOf, networkSchema } from './network-schema.js';
import { durationSchema, fractionSchema, rateSchema, sizeSchema } from './units-schema.js';

/** A value, or a weighted choice among values. */
function choice<T extends z.ZodType>(value: T) {
  return z.union([
    value,
    z
      .object({
        choices: z.array(value).min(1),
        weights: z.array(z.number().positive()).optional(),
      })
      .strict()
      .refine((c) => !c.weights || c.weights.length === c.choices.length, { message: 'weights must have one entry per choice', path: ['weights'] }),
  ]);
}

/**
 * The job schema's own checks on the values a scenario hands on to its jobs, applied once their units are parsed: a
 * scenario that validates makes only jobs that validate (the workers check every job they get).
 */
const jobMigration = migrationJobSchema.shape.migration.unwrap().shape;
const jobChecks = {
  maxBandwidth: jobMigration.max_bandwidth_bytes_per_s.unwrap(),
  linkBandwidth: jobMigration.link_bandwidth_bytes_per_s.unwrap().unwrap(),
  downtimeLimit: jobMigration.downtime_limit_s.unwrap(),
  dirtyLimit: jobMigration.dirty_limit_bytes_per_s.unwrap().unwrap(),
  timeout: jobMigration.timeout_s.unwrap().unwrap(),
  multifdChannels: jobMigration.multifd_channels.unwrap().unwrap(),
  postcopy: jobMigration.postcopy.unwrap().unwrap(),
  calcTime: migrationJobSchema.shape.probe.unwrap().shape.calc_time_s.unwrap(),
  passSeconds: workloadSpecSchema.options[3].shape.pass_seconds.unwrap(),
};

/** Clusters a region may have. */
export const MAX_REGION_CLUSTERS = 1000;

/** A cluster's name within its region: a folder name for its outputs. */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Keys a region's cluster may not `set`: the cluster's seed derives from the region's, and a cluster is no region. */
export const REGION_FIXED_KEYS = ['seed', 'region', 'name'] as const;

const regionClusterSchema = z
  .object({
    name: z.string().regex(CLUSTER_NAME_PATTERN, 'a cluster name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit').optional(),
    /** Values at dotted paths (`cluster.host_classes[0].count: 500`, `policies.maintenance.wave_size: 20`), as in a scenario file. */
    set: z
      .record(z.string().min(1), z.unknown())
      .superRefine((set, ctx) => {
        for (const k of Object.keys(set)) {
          const head = k.split(/[.[]/)[0]!;
          if ((REGION_FIXED_KEYS as readonly string[]).includes(head)) ctx.addIssue({ code: 'custom', path: [k], message: `a cluster cannot set '${head}' (its seed derives from the region's seed; its name is the cluster's name)` });
        }
      })
      .optional(),
  })
  .strict();

const regionSchema = z
  .object({
    clusters: z.union([
      z.number().int().min(1).max(MAX_REGION_CLUSTERS),
      z
        .array(regionClusterSchema)
        .min(1)
        .max(MAX_REGION_CLUSTERS)
        .superRefine((list, ctx) => {
          const seen = new Map<string, number>();
          list.forEach((c, i) => {
            const name = c.name ?? `c${i}`;
            const first = seen.get(name);
            if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `cluster name '${name}' is also cluster ${first}'s` });
            else seen.set(name, i);
          });
        }),
    ]),
  })
  .strict();

/** The period of a recurring policy. */
const periodSchema = durationSchema.pipe(z.number().positive());

/** Workloads with human units (rates as `200MiB/s`); utilisation, touched fraction and access as the job's. */
const workloadSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle'), ...workloadActivity(0, 'random') }).strict(),
  z
    .object({
      kind: z.literal('uniform'),
      dirty_rate: rateSchema,
      working_set: z.number().gt(0).max(1).default(1),
      read_share: z.number().min(0).lt(1).default(0.5),
      ...workloadActivity(1, 'random'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('hotcold'),
      dirty_rate: rateSchema,
      hot_fraction: z.number().gt(0).lt(1).default(0.1),
      hot_write_share: fractionSchema.default(0.9),
      read_share: z.number().min(0).lt(1).default(0.5),
      ...workloadActivity(1, 'random'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('memstress'),
      write_percent: z.number().min(0).max(100).default(100),
      pass_time: durationSchema.pipe(jobChecks.passSeconds).default(1),
      ...workloadActivity(1, 'sequential'),
    })
    .strict(),
]);

const hostClassSchema = z
  .object({
    name: z.string().min(1),
    count: z.number().int().positive(),
    cores: z.number().int().positive(),
    memory: sizeSchema,
    /** Shared by the host's concurrent migrations (max_outbound, max_inbound). */
    nic: rateSchema.pipe(jobChecks.linkBandwidth),
    /** vCPUs a host may run per physical core. */
    cpu_overcommit: z.number().positive().default(4),
    kernel: kernelSchema.prefault({}),
  })
  .strict();

/**
 * A capacity-planning experiment: the fleet, its VMs, the migration settings, the policies that move VMs and the
 * events that disturb them. Quantities take human units.
 */
export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** Simulated time after which the run stops. */
    horizon: durationSchema.default(7 * 86400),
    cluster: z
      .object({
        host_classes: z.array(hostClassSchema).min(1),
        /** Racks, uplinks, spine and tenant traffic (see `network-schema.ts`); absent: one rack, NICs only. */
        network: networkSchema.optional(),
      })
      .strict(),
    vms: z
      .object({
        per_host: z.number().int().nonnegative().optional(),
        total: z.number().int().nonnegative().optional(),
        ram: choice(sizeSchema),
        vcpus: choice(z.number().int().positive().max(4096)),
        backing: z.enum(BACKING_SOURCES).default('anonymous_thp'),
        thp_coverage: fractionSchema.default(1),
        zero_fraction: fractionSchema.default(0),
        workloads: z.array(z.object({ weight: z.number().positive().default(1), workload: workloadSchema }).strict()).min(1),
        bailouts: bailoutsSchema.prefault({}),
        /** KVM dirty ring per vCPU (`-accel kvm,dirty-ring-size=N`); null = dirty bitmap. */
        dirty_ring_size: dirtyRingSizeSchema.default(null),
      })
      .strict()
      .refine((v) => (v.per_host === undefined) !== (v.total === undefined), { message: 'give exactly one of per_host and total', path: ['per_host'] }),
    /**
     * QEMU's migration settings. Those an operator preset sets (`policies.preset`) are optional here: unset, they
     * come from the preset, or without one from today's defaults (`resolveMigrationPolicy`).
     */
    migration: z
      .object({
        /** @defaultValue 128MiB/s (QEMU's max-bandwidth), or the preset's */
        max_bandwidth: rateSchema.pipe(jobChecks.maxBandwidth).optional(),
        /** @defaultValue 300ms, or the preset's */
        downtime_limit: durationSchema.pipe(jobChecks.downtimeLimit).optional(),
        /** Nova's downtime steps: the limit raised in `steps` steps, each `delay_per_gib` × GiB of RAM after the last. */
        downtime_steps: z
          .object({ steps: z.number().int().min(1).max(MAX_DOWNTIME_STEPS - 1), delay_per_gib: durationSchema })
          .strict()
          .optional(),
        /** @defaultValue false, or the preset's */
        auto_converge: z.boolean().optional(),
        /** dirty-limit with this per-vCPU quota; needs `vms.dirty_ring_size`, excludes auto_converge. */
        dirty_limit: rateSchema.pipe(jobChecks.dirtyLimit).nullable().default(null),
        /** multifd channels; null = off. */
        multifd_channels: jobChecks.multifdChannels.nullable().default(null),
        /** Switch to post-copy after this many precopy passes; null = never. */
        postcopy: jobChecks.postcopy.nullable().default(null),
        /** Completion timeout, as Nova's live_migration_completion_timeout; null = none. @defaultValue null, or the preset's */
        timeout: durationSchema.pipe(jobChecks.timeout).nullable().optional(),
        /** Completion timeout per GiB of RAM (Nova's and KubeVirt's form); not with `timeout`. */
        timeout_per_gib: durationSchema.pipe(z.number().positive()).optional(),
        /** What the timeout does: abort (Nova's default), postcopy (force_complete with post-copy, KubeVirt's allowPostCopy), pause. @defaultValue abort, or the preset's */
        timeout_action: z.enum(TIMEOUT_ACTIONS).optional(),
        /** Attempts per VM before an evacuation gives up on it. */
        max_attempts: z.number().int().min(1).max(100).default(3),
      })
      .strict()
      .prefault({}),
    policies: z
      .object({
        /** An orchestrator's defaults (`operator-presets.ts`); any key set in the scenario overrides the preset's. */
        preset: z.enum(OPERATOR_PRESET_NAMES as [OperatorPresetName, ...OperatorPresetName[]]).optional(),
        maintenance: z
          .object({
            /** Hosts evacuated at the same time. */
            wave_size: z.number().int().positive(),
            /** Hosts to upgrade, in index order; all by default. */
            hosts: z.number().int().positive().optional(),
            /** Concurrent migrations per host, out and in (Nova's max_concurrent_live_migrations defaults to 1). @defaultValue 1, or the preset's */
            max_outbound: z.number().int().positive().optional(),
            max_inbound: z.number().int().positive().optional(),
            /** Concurrent migrations in the whole cluster; null: no limit. @defaultValue null, or the preset's */
            max_per_cluster: z.number().int().positive().nullable().optional(),
            /** The order hosts are drained in: by id, rack by rack, or spread across racks (`drainWaves`). */
            drain_order: z.enum(DRAIN_ORDERS).default('host'),
            start: durationSchema.default(0),
            /** Time a host is out after it is emptied (upgrade, reboot). */
            upgrade_time: durationSchema.default(600),
          })
          .strict()
          .optional(),
        probes: z
          .object({
            every: periodSchema,
            vms_per_round: z.number().int().positive(),
            calc_time: durationSchema.pipe(jobChecks.calcTime).default(1),
            /** calc-dirty-rate mode, for these probes and the rebalancer's: QEMU's default page-sampling never enables dirty logging. */
            mode: z.enum(PROBE_MODES).default('page-sampling'),
          })
          .strict()
          .optional(),
        rebalance: z
          .object({
            every: periodSchema,
            /** VMs probed on the most loaded host each round; the least dirty one moves. */
            probes_per_round: z.number().int().positive().default(4),
            /** Move only when the most and least loaded hosts differ by more than this fraction of memory. */
            threshold: fractionSchema.default(0.1),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    events: z
      .object({
        host_failures: z.array(z.object({ host: z.number().int().nonnegative(), at: durationSchema }).strict()).default([]),
        /** Probability that an operator cancels a given migration, at a uniformly drawn point of its expected run. */
        cancellation_probability: fractionSchema.default(0),
      })
      .strict()
      .prefault({}),
    /**
     * A region of clusters (`cluster/region/region-clusters.ts`): N copies of this scenario's cluster, VMs, policies
     * and events, or a list of clusters, each with an optional name and `set` of per-cluster values at dotted paths
     * (validated as the scenario is). Each cluster's seed derives from this scenario's `seed`.
     */
    region: regionSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    // The job schema's cross-checks, on the settings the scenario hands to every job, with the scenario's paths.
    const path = (jobPath: readonly string[]): string[] => {
      if (jobPath[0] === 'probe') return s.policies.probes ? ['policies', 'probes', 'mode'] : ['vms', 'dirty_ring_size'];
      return ['migration', 'dirty_limit'];
    };
    const preset = s.policies.preset === undefined ? null : OPERATOR_PRESETS[s.policies.preset];
    const presetAutoConverge = s.migration.auto_converge === undefined && preset !== null && preset.autoConverge;
    const issues = qemuSettingsIssues(
      s.vms.dirty_ring_size !== null,
      { auto_converge: s.migration.auto_converge ?? preset?.autoConverge ?? false, dirty_limit_bytes_per_s: s.migration.dirty_limit },
      s.policies.probes?.mode ?? 'page-sampling',
    );
    for (const issue of issues) {
      const fromPreset = presetAutoConverge && issue.message.includes('auto-converge') ? ` (preset ${s.policies.preset} turns auto-converge on; set migration.auto_converge: false)` : '';
      ctx.addIssue({ code: 'custom', path: path(issue.path), message: issue.message + fromPreset });
    }
    for (const issue of policyIssues(s)) ctx.addIssue({ code: 'custom', ...issue });
    const hosts = s.cluster.host_classes.reduce((a, c) => a + c.count, 0);
    const perRack = s.cluster.network?.hosts_per_rack;
    if (perRack !== undefined && hosts % perRack !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'network', 'hosts_per_rack'],
        message: `${perRack} hosts per rack does not divide the ${hosts} hosts; divisors of ${hosts}: ${divisorsOf(hosts).join(', ')}`,
      });
    }
  });

/**
 * Settings an operator preset cannot take, or that contradict each other once the preset is applied, with the
 * scenario key to blame.
 */
function policyIssues(s: {
  readonly migration: { readonly downtime_limit?: number | undefined; readonly downtime_steps?: { readonly steps: number } | undefined; readonly timeout?: number | null | undefined; readonly timeout_per_gib?: number | undefined; readonly timeout_action?: (typeof TIMEOUT_ACTIONS)[number] | undefined; readonly postcopy: number | null };
  readonly policies: { readonly preset?: OperatorPresetName | undefined };
}): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  const m = s.migration;
  const name = s.policies.preset;
  const preset = name === undefined ? null : OPERATOR_PRESETS[name];
  if (m.timeout !== undefined && m.timeout_per_gib !== undefined) {
    out.push({ path: ['migration', 'timeout_per_gib'], message: 'give at most one of timeout and timeout_per_gib' });
  }
  if (preset !== null && !preset.postcopy && m.timeout_action === 'postcopy' && m.postcopy === null) {
    out.push({
      path: ['migration', 'timeout_action'],
      message: `preset ${name} does not permit post-copy (${preset.source}), so the timeout cannot switch to it; set migration.postcopy to allow post-copy, or another timeout_action`,
    });
  }
  const steps = m.downtime_steps?.steps ?? preset?.downtimeSteps?.steps;
  const downtime = m.downtime_limit ?? preset?.downtimeLimitS ?? QEMU_DEFAULTS.downtimeLimitS;
  if (steps !== undefined && (downtime * 1000) / steps < 1) {
    out.push({
      path: m.downtime_steps ? ['migration', 'downtime_steps', 'steps'] : ['migration', 'downtime_limit'],
      message: `downtime steps are whole milliseconds: ${steps} steps of a ${downtime * 1000} ms downtime limit would start at 0 ms`,
    });
  }
  return out;
}

export type Scenario = z.output<typeof scenarioSchema>;
