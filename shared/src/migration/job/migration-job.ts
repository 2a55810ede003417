import { z } from 'zod';
import { profileOverridesSchema } from '../../kernel/mmu/cost-profile.js';
import { BACKING_SOURCES } from '../../kernel/mmu/backing-source.js';
import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import { workloadSpecSchema } from '../workload/workload-spec.js';
import { QEMU_DEFAULTS } from '../precopy/qemu-defaults.js';

const fraction = z.number().min(0).max(1);
const seconds = z.number().finite().nonnegative();
const positive = z.number().finite().positive();

/** The KVM settings of the source host's kernel. Scenario host classes take the same object. */
export const kernelSchema = z
  .object({
    /** The disable strategy the host runs (the others are evaluated as counterfactuals). */
    strategy: z.enum(DISABLE_STRATEGIES).default('promote'),
    eager_split: z.boolean().default(true),
    pml: z.boolean().default(true),
    fast_page_fault: z.boolean().default(true),
    /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with initially-set, as QEMU uses when available. */
    manual_protect: z.boolean().default(true),
    /** A built-in profile's name, or a profile inline (scenarios may name a file; it is read and inlined at load). */
    profile: z.union([z.string().min(1), profileOverridesSchema]).default('default'),
  })
  .strict();

/** Per-region likelihood of each promotion bail-out (see PROMOTE_BAILOUTS). Scenario VMs take the same object. */
export const bailoutsSchema = z
  .object({
    mmu_notifier_in_progress: fraction.default(0),
    pfn_not_mappable: fraction.default(0),
    memtype_needs_vcpu: fraction.default(0),
    invalid_pfn: fraction.default(0),
  })
  .strict();

/**
 * One job for a worker: a live migration of one VM (or a dirty-rate probe: QEMU `calc-dirty-rate` in dirty-bitmap
 * mode), in base units. Both services and the CLI validate with this schema; defaults are QEMU's.
 */
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
        /** Fraction of RAM that is zero pages when the migration starts (sent as 9-byte markers). */
        zero_fraction: fraction.default(0),
        workload: workloadSpecSchema,
      })
      .strict(),
    migration: z
      .object({
        max_bandwidth_bytes_per_s: positive.default(QEMU_DEFAULTS.maxBandwidthBytesPerS),
        /** Bandwidth actually available on the link (shared links): the migration gets min(this, max-bandwidth). */
        link_bandwidth_bytes_per_s: positive.nullable().default(null),
        downtime_limit_s: positive.max(2000).default(QEMU_DEFAULTS.downtimeLimitS),
        auto_converge: z.boolean().default(false),
        /** dirty-limit capability: per-vCPU dirty rate cap once triggered; null = off. */
        dirty_limit_bytes_per_s: positive.nullable().default(null),
        /** Completion timeout (as OpenStack Nova's live_migration_completion_timeout), action abort; null = none. */
        timeout_s: positive.nullable().default(null),
        timeout_action: z.literal('abort').default('abort'),
        cancel_at_s: seconds.nullable().default(null),
        /** The destination fails at this time. */
        fail_at_s: seconds.nullable().default(null),
        /** A migration still running after this long is reported as `active`. */
        horizon_s: positive.default(86_400),
      })
      .strict()
      .prefault({}),
    probe: z
      .object({
        /** `calc-time` of calc-dirty-rate. */
        calc_time_s: positive.max(60).default(1),
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
  });

export type MigrationJobInput = z.input<typeof migrationJobSchema>;
export type MigrationJob = z.output<typeof migrationJobSchema>;
