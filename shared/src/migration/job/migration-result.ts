import { z } from 'zod';
import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import { FAULT_KINDS } from '../../kernel/mmu/fault-kind.js';
import { PROMOTE_BAILOUTS } from '../../kernel/mmu/promote-bailout.js';

const nonneg = z.number().finite().nonnegative();

/** The MMU side of one job under one disable strategy (everything the source host pays for dirty logging). */
export const mmuBlockSchema = z
  .object({
    /** KVM_SET_USER_MEMORY_REGION turning logging on, on the VMM's ioctl thread. */
    enable_s: nonneg,
    /** The same turning it off; 0 when the disable never ran on the source (a completed migration). */
    disable_s: nonneg,
    disable_ran: z.boolean(),
    remote_tlb_flushes: nonneg,
    page_faults: nonneg,
    page_faults_by_kind: z.object(Object.fromEntries(FAULT_KINDS.map((k) => [k, nonneg]))).strict(),
    pml_logged_writes: nonneg,
    sptes_zapped: nonneg,
    huge_pages_promoted: nonneg,
    promote_bailouts: z.object(Object.fromEntries(PROMOTE_BAILOUTS.map((k) => [k, nonneg]))).strict(),
    /** Refaults of zapped huge pages that happened while the disable was still walking. */
    refaults_during_disable: nonneg,
    /** vCPU time lost to faults, PML, flush IPIs, frozen SPTEs and the refault storm, summed over vCPUs. */
    vcpu_stall_s: nonneg,
    /** The same per vCPU (the model spreads a VM's faults evenly over its vCPUs). */
    vcpu_stall_s_per_vcpu: nonneg,
    /** Host CPU time of all of it: the ioctl thread plus the vCPUs' stall. */
    host_cpu_s: nonneg,
    /** Seconds after the disable until 99 % of the zapped huge pages are back; null = never (or not disabled). */
    huge_coverage_restored_s: nonneg.nullable(),
  })
  .strict();

export type MmuBlock = z.infer<typeof mmuBlockSchema>;

/**
 * One job's result, shaped like QEMU's `query-migrate` (snake_case, base units), plus the MMU block per strategy.
 * Both services share this schema.
 */
export const migrationResultSchema = z
  .object({
    job: z.enum(['migration', 'dirty-rate-probe']),
    model: z.enum(['migsim', 'simgrid']),
    status: z.enum(['completed', 'failed', 'cancelled', 'active']),
    error_desc: z.string().nullable(),
    total_time_s: nonneg,
    setup_time_s: nonneg,
    /** Stop-and-copy time; null unless completed. */
    downtime_s: nonneg.nullable(),
    expected_downtime_s: nonneg,
    cpu_throttle_percentage: z.number().min(0).max(99),
    dirty_sync_count: z.number().int().nonnegative(),
    rounds: z.number().int().nonnegative(),
    ram: z
      .object({
        transferred_bytes: nonneg,
        remaining_bytes: nonneg,
        total_bytes: nonneg,
        duplicate_pages: nonneg,
        normal_pages: nonneg,
        normal_bytes: nonneg,
        dirty_pages_rate: nonneg,
        dirty_sync_count: z.number().int().nonnegative(),
        page_size_bytes: z.literal(4096),
        mbps: nonneg,
      })
      .strict(),
    /** When dirty logging was turned off on the source: never (postponed, the source VM is destroyed), at once on
     * the running VM (cancel, abort, failure before stop-and-copy, end of a probe), or when the stopped source
     * VM was restarted (failure after stop-and-copy). */
    dirty_log_stop: z.enum(['never', 'at-once', 'at-restart']),
    dirty_log_stopped_at_s: nonneg.nullable(),
    /** calc-dirty-rate's measurement (probes), bytes per second. */
    measured_dirty_rate_bytes_per_s: nonneg.nullable(),
    strategy_in_effect: z.enum(DISABLE_STRATEGIES),
    /** Per strategy, evaluated from the same pre-disable state; null for the SimGrid model (no MMU). */
    mmu: z.object(Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, mmuBlockSchema]))).strict().nullable(),
  })
  .strict();

export type MigrationResult = z.infer<typeof migrationResultSchema>;
