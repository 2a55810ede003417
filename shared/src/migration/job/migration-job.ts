import { z } from 'zod';
import { profileOverridesSchema } from '../../kernel/mmu/cost-profile.js';
import { BACKING_SOURCES } from '../../kernel/mmu/backing-source.js';
import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import { CPU_MODEL_NAMES, type CpuModelName } from '../../kernel/host/cpu-models.js';
import { KernelSettingsInvalid } from '../../kernel/host/errors/kernel-settings-invalid.js';
import { resolveKvmHost } from '../../kernel/host/resolve-kvm-host.js';
import { kvmHostSpecOf } from './kvm-host-spec-of.js';
import { workloadSpecSchema } from '../workload/workload-spec.js';
import { QEMU_DEFAULTS } from '../precopy/qemu-defaults.js';
import { PROBE_MODES } from '../probe/probe-mode.js';

const fraction = z.number().min(0).max(1);
const seconds = z.number().finite().nonnegative();
const positive = z.number().finite().positive();

/**
 * The KVM settings of the source host's kernel, as data: a release and a CPU fix the defaults of the module
 * parameters (named as the kernel names them) and the code paths (`resolveKvmHost`, each with its commit); any of
 * them may be overridden. A setting no such kernel can take is an issue at its field. Scenario host classes take
 * the same object.
 */
export const kernelSchema = z
  .object({
    /** Mainline release MAJOR.MINOR (OLDEST_RELEASE to NEWEST_RELEASE). @defaultValue DEFAULT_RELEASE */
    release: z.string().min(1).optional(),
    /** The host CPU (iTLB multihit decides nx_huge_pages=auto; PML). @defaultValue DEFAULT_CPU */
    cpu: z.enum(CPU_MODEL_NAMES as [CpuModelName, ...CpuModelName[]]).optional(),
    /** `kvm.tdp_mmu`. @defaultValue the release's */
    tdp_mmu: z.boolean().optional(),
    /** `kvm.nx_huge_pages`. @defaultValue auto: on where the CPU has iTLB multihit */
    nx_huge_pages: z.boolean().optional(),
    /** `kvm.eager_page_split` (5.18+, TDP MMU only). @defaultValue the release's */
    eager_page_split: z.boolean().optional(),
    /** TDP MMU `fast_page_fault` (5.15+; the shadow MMU always has it). @defaultValue the release's */
    fast_page_fault: z.boolean().optional(),
    /** `kvm_intel.pml`. @defaultValue on where the CPU has PML */
    pml: z.boolean().optional(),
    /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with initially-set, as QEMU uses when available. */
    manual_protect: z.boolean().default(true),
    /**
     * The disable strategy the host runs (every strategy is evaluated as a counterfactual); `zap-batched` is itself a
     * counterfactual (no release shipped it). @defaultValue the release's and the MMU's
     */
    strategy: z.enum(DISABLE_STRATEGIES).optional(),
    /** A built-in profile's name, or a profile inline (scenarios may name a file; it is read and inlined at load). */
    profile: z.union([z.string().min(1), profileOverridesSchema]).default('default'),
  })
  .strict()
  .superRefine((kernel, ctx) => {
    try {
      resolveKvmHost(kvmHostSpecOf(kernel));
    } catch (e) {
      if (!(e instanceof KernelSettingsInvalid)) throw e;
      for (const issue of e.issues) ctx.addIssue({ code: 'custom', path: [issue.field], message: issue.message });
    }
  });

export type KernelSettings = z.output<typeof kernelSchema>;

/** Per-region likelihood of each promotion bail-out (see PROMOTE_BAILOUTS). Scenario VMs take the same object. */
export const bailoutsSchema = z
  .object({
    mmu_notifier_in_progress: fraction.default(0),
    pfn_not_mappable: fraction.default(0),
    memtype_needs_vcpu: fraction.default(0),
    invalid_pfn: fraction.default(0),
  })
  .strict();

/** Completion-timeout actions: abort (Nova's default), switch to post-copy (Nova's force_complete with post-copy permitted, KubeVirt's allowPostCopy), or pause the VM until the rest is sent (Nova's force_complete without post-copy). */
export const TIMEOUT_ACTIONS = ['abort', 'postcopy', 'pause'] as const;

/**
 * QEMU's `dirty-ring-size` accelerator property: entries per vCPU, a power of two (`kvm_set_dirty_ring_size`), a
 * ring of at least one page (16-byte entries) and at most KVM_DIRTY_RING_MAX_ENTRIES (65536); null = the bitmap.
 */
export const dirtyRingSizeSchema = z
  .number()
  .int()
  .min(256)
  .max(65536)
  .refine((n) => (n & (n - 1)) === 0, 'dirty-ring-size must be a power of two')
  .nullable();

/**
 * One job for a worker: a live migration of one VM (or a dirty-rate probe: QEMU `calc-dirty-rate`), in base units.
 * Both services and the CLI validate with this schema; defaults are QEMU's.
 */
/**
 * Points a job's rate history may hold (payload bound: `MAX_PAYLOAD_BYTES` allows this many). A flow's rate changes
 * when a flow sharing one of its links starts, ends or lifts its cap: tens of times in the bundled fleets.
 */
export const RATE_HISTORY_MAX_POINTS = 5_000;

/** `[t0, r0, t1, r1, …]`: times ≥ 0 and increasing, rates finite and ≥ 0, the last one > 0 (so the job can end). */
const rateHistorySchema = z
  .array(z.number().finite().nonnegative())
  .max(2 * RATE_HISTORY_MAX_POINTS)
  .superRefine((flat, ctx) => {
    if (flat.length === 0 || flat.length % 2 !== 0) {
      ctx.addIssue({ code: 'custom', message: 'must hold pairs [time_s, rate_bytes_per_s, …], at least one' });
      return;
    }
    for (let i = 2; i < flat.length; i += 2) {
      if (!(flat[i]! > flat[i - 2]!)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `times must increase (${flat[i]} after ${flat[i - 2]})` });
        return;
      }
    }
    if (!(flat[flat.length - 1]! > 0)) ctx.addIssue({ code: 'custom', path: [flat.length - 1], message: 'the last rate must be positive' });
  });

export const migrationJobSchema = z
  .object({
    kind: z.enum(['migration', 'dirty-rate-probe']).default('migration'),
    model: z.enum(['migsim', 'simgrid']).default('migsim'),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    vm: z
      .object({
        ram_bytes: positive.refine((b) => Number.isSafeInteger(b) && b % (2 * 2 ** 20) === 0, 'must be a whole number of 2 MiB'),
        vcpus: z.number().int().min(1).max(4096),
        backing: z.enum(BACKING_SOURCES).default('anonymous_thp'),
        thp_coverage: fraction.default(1),
        /** Fraction of RAM that is zero pages when the migration starts (sent as 9-byte markers); at least the untouched share. */
        zero_fraction: fraction.default(0),
        workload: workloadSpecSchema,
        /**
         * KVM dirty ring (`-accel kvm,dirty-ring-size=N`), entries per vCPU; null = dirty bitmap. With the ring QEMU
         * does not use manual-protect / initially-set (`kvm_init`): enabling logging protects everything.
         */
        dirty_ring_size: dirtyRingSizeSchema.default(null),
      })
      .strict(),
    migration: z
      .object({
        max_bandwidth_bytes_per_s: positive.default(QEMU_DEFAULTS.maxBandwidthBytesPerS),
        /**
         * Bandwidth available on the link (a share of the hosts' NICs): precopy sends at min(this, max-bandwidth),
         * stop-and-copy and post-copy at this (the rate limit is lifted). null = a 10 Gbit/s link is assumed
         * (`STREAM.assumedLinkBytesPerS`).
         */
        link_bandwidth_bytes_per_s: positive.nullable().default(null),
        /** multifd capability with this many channels (`multifd-channels`, QEMU's default 2); null = off (one stream). */
        multifd_channels: z.number().int().min(1).max(255).nullable().default(null),
        downtime_limit_s: positive.max(2000).default(QEMU_DEFAULTS.downtimeLimitS),
        auto_converge: z.boolean().default(false),
        /**
         * dirty-limit capability with this `vcpu-dirty-limit`: the same quota for every vCPU once triggered; null =
         * off. Needs the dirty ring and excludes auto-converge (`migrate_caps_check`).
         */
        dirty_limit_bytes_per_s: positive.nullable().default(null),
        /** postcopy-ram: switch to post-copy (`migrate-start-postcopy`) after this many precopy passes; null = never. */
        postcopy: z.number().int().min(1).nullable().default(null),
        /** Completion timeout (as OpenStack Nova's live_migration_completion_timeout); null = none. */
        timeout_s: positive.nullable().default(null),
        /** What the completion timeout does. */
        timeout_action: z.enum(TIMEOUT_ACTIONS).default('abort'),
        cancel_at_s: seconds.nullable().default(null),
        /** The destination fails at this time. */
        fail_at_s: seconds.nullable().default(null),
        /** A migration still running after this long is reported as `active`. */
        horizon_s: positive.default(86_400),
        /**
         * The rates the fabric gave the migration's flow, `[t0, r0, t1, r1, …]`: from t_i seconds after the start
         * the flow ran at r_i bytes/s (see `RateHistory`); written by the coordinator of a fleet run, where
         * migrations share links. null = the migration has its link to itself.
         */
        rate_history: rateHistorySchema.nullable().default(null),
      })
      .strict()
      .prefault({}),
    probe: z
      .object({
        /** `calc-time` of calc-dirty-rate. */
        calc_time_s: positive.max(60).default(1),
        /** calc-dirty-rate's `mode` (QEMU's default page-sampling never enables dirty logging). */
        mode: z.enum(PROBE_MODES).default('page-sampling'),
      })
      .strict()
      .prefault({}),
    kernel: kernelSchema.prefault({}),
    bailouts: bailoutsSchema.prefault({}),
  })
  .strict()
  .superRefine((job, ctx) => {
    const page = job.vm.backing === 'anonymous_hugetlb_1gb' ? 2 ** 30 : 2 * 2 ** 20;
    if (job.vm.ram_bytes % page !== 0) {
      ctx.addIssue({ code: 'custom', path: ['vm', 'ram_bytes'], message: `must be a whole number of ${job.vm.backing} pages (${page / 2 ** 20} MiB)` });
    }
    for (const issue of qemuSettingsIssues(job.vm.dirty_ring_size !== null, job.migration, job.kind === 'dirty-rate-probe' ? job.probe.mode : null)) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }
  });

/** A combination of QEMU settings that QEMU refuses, with the path of the setting to blame. */
export interface QemuSettingsIssue {
  readonly path: string[];
  readonly message: string;
}

/**
 * What QEMU refuses, as `migrate_caps_check` (QEMU 8.1 – 10.2) and `qmp_calc_dirty_rate` do: dirty-limit with
 * auto-converge, dirty-limit without the KVM dirty ring, the dirty-ring probe mode without the ring and the
 * dirty-bitmap mode with it. Scenarios run the same checks on the settings they hand to their jobs.
 */
export function qemuSettingsIssues(
  dirtyRing: boolean,
  migration: { readonly auto_converge: boolean; readonly dirty_limit_bytes_per_s: number | null },
  probeMode: (typeof PROBE_MODES)[number] | null,
): QemuSettingsIssue[] {
  const out: QemuSettingsIssue[] = [];
  if (migration.dirty_limit_bytes_per_s !== null) {
    if (migration.auto_converge) out.push({ path: ['migration', 'dirty_limit_bytes_per_s'], message: 'dirty-limit conflicts with auto-converge' });
    if (!dirtyRing) out.push({ path: ['migration', 'dirty_limit_bytes_per_s'], message: "dirty-limit requires KVM with accelerator property 'dirty-ring-size' set" });
  }
  if (probeMode === 'dirty-ring' && !dirtyRing) out.push({ path: ['probe', 'mode'], message: "mode dirty-ring requires KVM with accelerator property 'dirty-ring-size' set" });
  if (probeMode === 'dirty-bitmap' && dirtyRing) out.push({ path: ['probe', 'mode'], message: 'mode dirty-bitmap is not available with the KVM dirty ring' });
  return out;
}

export type MigrationJobInput = z.input<typeof migrationJobSchema>;
export type MigrationJob = z.output<typeof migrationJobSchema>;
