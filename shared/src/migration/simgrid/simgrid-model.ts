import { totalWriteRate } from '../../kernel/mmu-aggregate/page-class.js';
import { pageClasses } from '../workload/page-classes.js';
import { resolveKvmHost } from '../../kernel/host/resolve-kvm-host.js';
import { kvmHostSpecOf } from '../job/kvm-host-spec-of.js';
import type { MigrationJob } from '../job/migration-job.js';
import type { MigrationResult } from '../job/migration-result.js';

/** SimGrid's live-migration plugin constants (src/plugins/vm/VmLiveMigration.cpp; reference §2). */
export const SIMGRID = {
  /** `sg_vm_create_migratable` caps the dirtied working set at 90 % of RAM. */
  workingSetCap: 0.9,
  /** `max_downtime`: 30 ms, no setter. */
  maxDowntimeS: 0.03,
  /** Stage 2 gives up after this much simulated time. */
  budgetS: 1e7,
} as const;

/**
 * SimGrid's precopy model on the same inputs, for side-by-side checks: stage 1 sends all of RAM, stage 2 resends
 * what was dirtied (dirty bytes = dirty rate × elapsed time, capped at 90 % of RAM) while it exceeds bandwidth ×
 * 30 ms, stage 3 sends the rest with the VM suspended. No zero pages, no MMU costs, no dirty logging.
 */
export function runSimgridMigration(job: MigrationJob): MigrationResult {
  const ram = job.vm.ram_bytes;
  const m = job.migration;
  const bw = Math.min(m.max_bandwidth_bytes_per_s, m.link_bandwidth_bytes_per_s ?? Infinity);
  const rate = totalWriteRate(pageClasses(job.vm.workload, ram / 4096, job.vm.vcpus)) * 4096;
  const cap = SIMGRID.workingSetCap * ram;
  const threshold = bw * SIMGRID.maxDowntimeS;
  const budget = Math.min(SIMGRID.budgetS, m.timeout_s ?? Infinity, m.horizon_s);
  let t = ram / bw;
  let sent = ram;
  let remaining = Math.min(rate * t, cap);
  let rounds = 1;
  let status: MigrationResult['status'] = 'completed';
  while (remaining > threshold) {
    const dt = remaining / bw;
    if (t + dt > budget) {
      status = m.timeout_s !== null && budget === m.timeout_s ? 'cancelled' : 'active';
      break;
    }
    t += dt;
    sent += remaining;
    remaining = Math.min(rate * dt, cap);
    rounds++;
  }
  const downtime = status === 'completed' ? remaining / bw : null;
  if (downtime !== null) {
    t += downtime;
    sent += remaining;
  }
  return {
    job: 'migration',
    model: 'simgrid',
    status,
    error_desc: status === 'cancelled' ? 'completion timeout: aborted' : null,
    total_time_s: t,
    setup_time_s: 0,
    downtime_s: downtime,
    expected_downtime_s: remaining / bw,
    cpu_throttle_percentage: 0,
    dirty_sync_count: rounds,
    rounds,
    ram: {
      transferred_bytes: Math.round(sent),
      remaining_bytes: status === 'completed' ? 0 : Math.round(remaining),
      total_bytes: ram,
      duplicate_pages: 0,
      normal_pages: Math.round(sent / 4096),
      normal_bytes: Math.round(sent),
      dirty_pages_rate: rate / 4096,
      dirty_sync_count: rounds,
      page_size_bytes: 4096,
      mbps: t > 0 ? (sent * 8) / 1e6 / t : 0,
    },
    dirty_log_stop: status === 'completed' ? 'never' : 'at-once',
    dirty_log_stopped_at_s: status === 'completed' ? null : t,
    measured_dirty_rate_bytes_per_s: null,
    probe_mode: null,
    postcopy_started_at_s: null,
    postcopy_page_requests: 0,
    strategy_in_effect: resolveKvmHost(kvmHostSpecOf(job.kernel)).strategy,
    host_cpu: null,
    guest_impact: null,
    mmu: null,
  };
}
