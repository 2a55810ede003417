import { z } from 'zod';
import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import { FAULT_KINDS } from '../../kernel/mmu/fault-kind.js';
import { PROMOTE_BAILOUTS } from '../../kernel/mmu/promote-bailout.js';
import { PROBE_MODES } from '../probe/probe-mode.js';

const nonneg = z.number().finite().nonnegative();

/**
 * Host CPU a job costs the source as it ran, s: QEMU's threads outside KVM (the migration thread or multifd channels,
 * per byte on the wire at `STREAM.bytesPerCoreS`; a page-sampling probe's hashing), dirty tracking (PML entries or
 * write-protection faults, GET/CLEAR ioctls), enabling logging and splitting huge pages (eager, in CLEAR, on fault,
 * and untouched memory mapped at 4K) on the host's MMU. Everything but `migration_thread_s` is MMU work. Each
 * strategy's MMU block has its own MMU's share (the shadow MMU's for `rmap-zap`) and the disable's.
 */
export const hostCpuSchema = z
  .object({
    migration_thread_s: nonneg,
    dirty_tracking_s: nonneg,
    enable_split_s: nonneg,
    total_s: nonneg,
  })
  .strict();

export type HostCpu = z.infer<typeof hostCpuSchema>;

/**
 * Guest time a job costs as it ran, in vCPU-seconds: downtime (all vCPUs, while the VM is stopped or paused), the
 * 4K-EPT slowdown while logging (`GUEST_IMPACT.ept4kSlowdown`), throttling (auto-converge's sleep, dirty-limit's
 * quota), dirty tracking (PML-full exits, write-protection faults, splits and 4K mappings on fault), flush stalls
 * while logging (IPIs of the enable and the CLEARs), BQL stalls while the enable holds it, and post-copy page faults
 * on the destination. Dirty tracking and the flush stalls while logging are the host's MMU's; each strategy's MMU
 * block has its own MMU's and the disable's.
 */
export const guestImpactSchema = z
  .object({
    downtime_s: nonneg,
    ept_4k_s: nonneg,
    throttling_s: nonneg,
    dirty_tracking_s: nonneg,
    flush_stalls_s: nonneg,
    bql_stall_s: nonneg,
    postcopy_faults_s: nonneg,
    total_s: nonneg,
  })
  .strict();

export type GuestImpact = z.infer<typeof guestImpactSchema>;

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
    /** Host CPU time of all of it: the ioctl thread plus the vCPUs' stall (MMU work only; the whole cost is `host_cpu`). */
    host_cpu_s: nonneg,
    /** Seconds after the disable until 99 % of the zapped huge pages are back; null = never (or not disabled). */
    huge_coverage_restored_s: nonneg.nullable(),
    /**
     * The whole host CPU under this strategy: its MMU's dirty tracking and enable/split (the TDP MMU's for the TDP
     * MMU's strategies, the shadow MMU's for `rmap-zap`), the disable's share (its ioctl and the vCPU work it causes:
     * flush exits, frozen SPTEs, refaults), and the total with the job's migration thread.
     */
    host_cpu: z.object({ dirty_tracking_s: nonneg, enable_split_s: nonneg, disable_s: nonneg, total_s: nonneg }).strict(),
    /**
     * The guest time under this strategy, vCPU-seconds: its MMU's dirty tracking and flush stalls while logging,
     * then the disable's flush stalls (IPIs, frozen SPTEs, zap-leaf's teardown on refault), refaults (one not-present
     * fault each) and BQL stalls (BQL-bound exits waiting while the disable holds the BQL), and the total with the
     * job's MMU-independent guest time (downtime, 4K-EPT slowdown, throttling, the enable's BQL stalls, post-copy).
     */
    guest_impact: z
      .object({ dirty_tracking_s: nonneg, logging_flush_stalls_s: nonneg, flush_stalls_s: nonneg, refaults_s: nonneg, bql_stall_s: nonneg, total_s: nonneg })
      .strict(),
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
    /**
     * Until the job reports its end: for a migration that stopped dirty logging on the source (cancel, abort,
     * failure) or a probe that did, that includes the disable of the strategy in effect.
     */
    total_time_s: nonneg,
    setup_time_s: nonneg,
    /** Stop-and-copy (or post-copy switchover) time, from the pause when the completion timeout paused the VM; null unless completed. */
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
    /** When dirty logging was turned off on the source: never (postponed because the source VM never runs
     * again, or never enabled: a page-sampling probe), at once on the running VM (cancel, abort, failure before
     * stop-and-copy, end of a dirty-bitmap or dirty-ring probe), or after the stopped source VM was restarted
     * (cancel or failure in stop-and-copy, or while the completion timeout had paused the VM). */
    dirty_log_stop: z.enum(['never', 'at-once', 'at-restart']),
    /** When the stop began (`migration_cleanup`, under the BQL); the disable runs from then. */
    dirty_log_stopped_at_s: nonneg.nullable(),
    /** calc-dirty-rate's measurement (probes), bytes per second. */
    measured_dirty_rate_bytes_per_s: nonneg.nullable(),
    /** calc-dirty-rate's mode (probes); null for migrations. */
    probe_mode: z.enum(PROBE_MODES).nullable(),
    /** When the migration switched to post-copy; null unless it did. */
    postcopy_started_at_s: nonneg.nullable(),
    /** Page requests of the destination's vCPUs in post-copy (`postcopy_request_page`), expected. */
    postcopy_page_requests: nonneg,
    strategy_in_effect: z.enum(DISABLE_STRATEGIES),
    /** Strategy-independent whole cost; null for the SimGrid model (no host model). */
    host_cpu: hostCpuSchema.nullable(),
    guest_impact: guestImpactSchema.nullable(),
    /** Per strategy, evaluated from the same pre-disable state; null for the SimGrid model (no MMU). */
    mmu: z.object(Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, mmuBlockSchema]))).strict().nullable(),
  })
  .strict();

export type MigrationResult = z.infer<typeof migrationResultSchema>;
