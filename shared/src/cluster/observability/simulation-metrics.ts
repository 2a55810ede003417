import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';
import type { JobRecord } from '../fleet/fleet-run-result.js';
import { DISABLE_STRATEGIES } from '../../kernel/mmu/disable-strategy.js';
import { FAULT_KINDS } from '../../kernel/mmu/fault-kind.js';
import { PROMOTE_BAILOUTS } from '../../kernel/mmu/promote-bailout.js';
import { GUEST_IMPACT_COMPONENTS, HOST_CPU_COMPONENTS, wholeCost } from '../../migration/job/whole-cost.js';
import type { LinkTier } from '../network/fabric.js';
import { LEDGER_KEYS, type HostCpuLedgerTotals } from '../report/host-cpu-ledger.js';

/** The fabric's tiers, the only label of `migsim_link_utilisation`. */
export const LINK_TIERS: readonly LinkTier[] = ['nic', 'uplink', 'spine'];

/** Bytes per second: 1 MiB/s … ~128 GiB/s in 18 doubling buckets. */
const RATE_BUCKETS = exponentialBuckets(2 ** 20, 2, 18);

/** Seconds to hours: 0.1 s … ~27 h in 19 doubling buckets. */
const LONG_BUCKETS = exponentialBuckets(0.1, 2, 20);
/** Milliseconds to minutes: 1 ms … ~4.4 min. */
const SHORT_BUCKETS = exponentialBuckets(0.001, 2, 19);

/**
 * The fleet simulation's metrics, recorded by the coordinator as it applies each job's result (so each job counts
 * once, whichever worker ran it, and the totals equal summary.json's). Every job adds its MMU cost under every
 * disable strategy — the paired counterfactual — so a dashboard can show what the fleet would pay under each.
 * Labels are bounded: outcome, purpose, strategy (and `in_effect` for the contention), fault_kind, reason, host_class, tier, component (HOST_CPU_COMPONENTS,
 * GUEST_IMPACT_COMPONENTS). `migsim_host_cpu_seconds_total` is the whole host CPU by component (before, it counted
 * the MMU's work only: that is the sum over every component but `migration_thread`).
 */
export class SimulationMetrics {
  readonly migrations: Counter<'outcome' | 'purpose' | 'host_class'>;
  readonly probes: Counter<'host_class'>;
  readonly migrationDuration: Histogram<'outcome'>;
  readonly downtime: Histogram;
  readonly transferred: Counter;
  readonly rounds: Histogram;
  readonly enableDuration: Histogram<'strategy'>;
  readonly disableDuration: Histogram<'strategy'>;
  readonly disableSeconds: Counter<'strategy'>;
  readonly tlbFlushes: Counter<'strategy'>;
  readonly pageFaults: Counter<'strategy' | 'fault_kind'>;
  readonly sptesZapped: Counter<'strategy'>;
  readonly hugePagesPromoted: Counter<'strategy'>;
  readonly bailouts: Counter<'strategy' | 'reason'>;
  readonly vcpuStall: Counter<'strategy'>;
  readonly hostCpu: Counter<'component' | 'strategy'>;
  readonly guestImpact: Counter<'component' | 'strategy'>;
  readonly inFlight: Gauge;
  readonly wavesDone: Gauge;
  readonly wavesTotal: Gauge;
  readonly simulatedSeconds: Gauge;
  readonly flowsActive: Gauge;
  readonly linkUtilisation: Gauge<'tier'>;
  readonly hostCpuContention: Counter<'strategy'>;
  readonly transferRate: Histogram;
  readonly dirtyRate: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.migrations = new Counter({ name: 'migsim_migrations_total', help: 'Migrations finished, by outcome (completed, cancelled, failed, active at the horizon)', labelNames: ['outcome', 'purpose', 'host_class'], registers });
    this.probes = new Counter({ name: 'migsim_dirty_rate_probes_total', help: 'Dirty-rate probes (calc-dirty-rate, dirty-bitmap mode) finished', labelNames: ['host_class'], registers });
    this.migrationDuration = new Histogram({ name: 'migsim_migration_duration_seconds', help: 'Simulated total time of each migration', labelNames: ['outcome'], buckets: LONG_BUCKETS, registers });
    this.downtime = new Histogram({ name: 'migsim_migration_downtime_seconds', help: 'Simulated stop-and-copy downtime of each completed migration', buckets: SHORT_BUCKETS, registers });
    this.transferred = new Counter({ name: 'migsim_migration_transferred_bytes_total', help: 'Bytes sent by migrations (query-migrate ram.transferred)', registers });
    this.rounds = new Histogram({ name: 'migsim_migration_precopy_rounds', help: 'Precopy passes per migration', buckets: exponentialBuckets(1, 2, 12), registers });
    this.enableDuration = new Histogram({ name: 'migsim_dirty_log_enable_duration_seconds', help: 'Time to enable dirty logging on the ioctl thread (the same under every strategy)', labelNames: ['strategy'], buckets: SHORT_BUCKETS, registers });
    this.disableDuration = new Histogram({ name: 'migsim_dirty_log_disable_duration_seconds', help: 'Time to disable dirty logging on the ioctl thread, for jobs whose disable ran on the source', labelNames: ['strategy'], buckets: exponentialBuckets(0.001, 2, 24), registers });
    this.disableSeconds = new Counter({ name: 'migsim_dirty_log_disable_seconds_total', help: 'Sum of dirty-logging disable time on the ioctl thread', labelNames: ['strategy'], registers });
    this.tlbFlushes = new Counter({ name: 'migsim_remote_tlb_flushes_total', help: 'Remote TLB flushes on source hosts', labelNames: ['strategy'], registers });
    this.pageFaults = new Counter({ name: 'migsim_page_faults_total', help: 'EPT/NPT violations on source hosts, by kind', labelNames: ['strategy', 'fault_kind'], registers });
    this.sptesZapped = new Counter({ name: 'migsim_sptes_zapped_total', help: 'SPTEs zapped (leaf or non-leaf)', labelNames: ['strategy'], registers });
    this.hugePagesPromoted = new Counter({ name: 'migsim_huge_pages_promoted_total', help: 'Huge pages recovered in place', labelNames: ['strategy'], registers });
    this.bailouts = new Counter({ name: 'migsim_promote_bailouts_total', help: 'In-place promotions that bailed out, by reason', labelNames: ['strategy', 'reason'], registers });
    this.vcpuStall = new Counter({ name: 'migsim_vcpu_stall_seconds_total', help: 'vCPU time lost to MMU work (faults, PML, flush IPIs, refaults)', labelNames: ['strategy'], registers });
    this.hostCpu = new Counter({
      name: 'migsim_host_cpu_seconds_total',
      help: 'Host CPU time migrations and probes cost the source, by component (migration_thread, dirty_tracking, enable_split: the same under every strategy; disable)',
      labelNames: ['component', 'strategy'],
      registers,
    });
    this.guestImpact = new Counter({
      name: 'migsim_guest_impact_seconds_total',
      help: 'vCPU time guests lost to migrations and probes, by component (disable_flush_stalls, refaults, disable_bql_stall: the disable\'s; the others the same under every strategy)',
      labelNames: ['component', 'strategy'],
      registers,
    });
    this.inFlight = new Gauge({ name: 'migsim_jobs_in_flight', help: 'Jobs sent to the workers and not yet applied', registers });
    this.wavesDone = new Gauge({ name: 'migsim_evacuation_waves_done', help: 'Maintenance waves finished', registers });
    this.wavesTotal = new Gauge({ name: 'migsim_evacuation_waves', help: 'Maintenance waves in the scenario', registers });
    this.simulatedSeconds = new Gauge({ name: 'migsim_simulated_time_seconds', help: 'Simulated time reached by the coordinator', registers });
    this.flowsActive = new Gauge({ name: 'migsim_flows_active', help: 'Migration flows on the fabric at the simulated time reached (one per running migration; probes have none)', registers });
    this.linkUtilisation = new Gauge({
      name: 'migsim_link_utilisation',
      help: 'Mean utilisation of the tier\'s links (bytes carried over capacity, migrations only) at the simulated time reached, 0..1',
      labelNames: ['tier'],
      registers,
    });
    this.hostCpuContention = new Counter({
      name: 'migsim_host_cpu_contention_seconds_total',
      help: 'Host CPU seconds migrations needed beyond the cores their hosts\' guests left idle (taken from guests), per strategy and in_effect; added when a run ends',
      labelNames: ['strategy'],
      registers,
    });
    this.transferRate = new Histogram({
      name: 'migsim_migration_memory_transfer_rate_bytes',
      help: 'Mean rate on the wire of each migration: transferred bytes over its span (KubeVirt: kubevirt_vmi_migration_memory_transfer_rate_bytes)',
      buckets: RATE_BUCKETS,
      registers,
    });
    this.dirtyRate = new Histogram({
      name: 'migsim_migration_dirty_memory_rate_bytes',
      help: 'Dirty rate of each migration\'s guest as query-migrate reports it, dirty-pages-rate × 4 KiB (KubeVirt: kubevirt_vmi_migration_dirty_memory_rate_bytes)',
      buckets: RATE_BUCKETS,
      registers,
    });
    this.flowsActive.set(0);
    for (const tier of LINK_TIERS) this.linkUtilisation.set({ tier }, 0);
    for (const strategy of LEDGER_KEYS) this.hostCpuContention.inc({ strategy }, 0);
    // Series exist from the start, so rates and dashboards have data before the first job of a kind.
    for (const o of ['completed', 'cancelled', 'failed', 'active'] as const) this.migrationDuration.zero({ outcome: o });
    for (const s of DISABLE_STRATEGIES) {
      this.enableDuration.zero({ strategy: s });
      this.disableDuration.zero({ strategy: s });
      for (const m of [this.disableSeconds, this.tlbFlushes, this.sptesZapped, this.hugePagesPromoted, this.vcpuStall]) m.inc({ strategy: s }, 0);
      for (const component of HOST_CPU_COMPONENTS) this.hostCpu.inc({ component, strategy: s }, 0);
      for (const component of GUEST_IMPACT_COMPONENTS) this.guestImpact.inc({ component, strategy: s }, 0);
      for (const k of FAULT_KINDS) this.pageFaults.inc({ strategy: s, fault_kind: k }, 0);
      for (const r of PROMOTE_BAILOUTS) this.bailouts.inc({ strategy: s, reason: r }, 0);
    }
  }

  /**
   * Creates the per-host-class series at zero before a run's first job, so that rates over them have a starting
   * point (Prometheus needs two samples) however quickly the first migrations finish.
   */
  prime(hostClasses: readonly string[]): void {
    for (const host_class of hostClasses) {
      this.probes.inc({ host_class }, 0);
      for (const outcome of ['completed', 'cancelled', 'failed', 'active'] as const) {
        for (const purpose of ['maintenance', 'rebalance'] as const) this.migrations.inc({ outcome, purpose, host_class }, 0);
      }
    }
  }

  /**
   * The fabric now: flows in flight and each tier's mean link utilisation (0..1), as the network model advances;
   * tiers left out keep their value.
   */
  setNetwork(flowsActive: number, utilisation: Partial<Record<LinkTier, number>>): void {
    this.flowsActive.set(flowsActive);
    for (const tier of LINK_TIERS) {
      const u = utilisation[tier];
      if (u !== undefined) this.linkUtilisation.set({ tier }, u);
    }
  }

  /** Adds a finished run's host CPU contention (the ledger needs the whole run: it is added once, at the end). */
  recordHostCpuLedger(ledger: HostCpuLedgerTotals): void {
    for (const strategy of LEDGER_KEYS) {
      const v = ledger.contention_s[strategy];
      if (v > 0) this.hostCpuContention.inc({ strategy }, v);
    }
  }

  /** Adds one applied job's result. `hostClass` is the source host's class. */
  record(job: JobRecord, hostClass: string): void {
    const r = job.result;
    if (r.job === 'dirty-rate-probe') this.probes.inc({ host_class: hostClass });
    else {
      this.migrations.inc({ outcome: r.status, purpose: job.purpose, host_class: hostClass });
      this.migrationDuration.observe({ outcome: r.status }, r.total_time_s);
      if (r.downtime_s !== null) this.downtime.observe(r.downtime_s);
      this.transferred.inc(r.ram.transferred_bytes);
      this.rounds.observe(r.rounds);
      const span = job.endS - job.startS;
      if (span > 0) this.transferRate.observe(r.ram.transferred_bytes / span);
      this.dirtyRate.observe(r.ram.dirty_pages_rate * r.ram.page_size_bytes);
    }
    for (const s of DISABLE_STRATEGIES) {
      const w = wholeCost(r, s);
      for (const component of HOST_CPU_COMPONENTS) if (w.host_cpu[component] > 0) this.hostCpu.inc({ component, strategy: s }, w.host_cpu[component]);
      for (const component of GUEST_IMPACT_COMPONENTS) if (w.guest_impact[component] > 0) this.guestImpact.inc({ component, strategy: s }, w.guest_impact[component]);
    }
    if (!r.mmu) return;
    for (const s of DISABLE_STRATEGIES) {
      const b = r.mmu[s];
      if (!b) continue;
      this.enableDuration.observe({ strategy: s }, b.enable_s);
      if (b.disable_ran) this.disableDuration.observe({ strategy: s }, b.disable_s);
      this.disableSeconds.inc({ strategy: s }, b.disable_s);
      this.tlbFlushes.inc({ strategy: s }, b.remote_tlb_flushes);
      for (const k of FAULT_KINDS) {
        const n = b.page_faults_by_kind[k] ?? 0;
        if (n > 0) this.pageFaults.inc({ strategy: s, fault_kind: k }, n);
      }
      this.sptesZapped.inc({ strategy: s }, b.sptes_zapped);
      this.hugePagesPromoted.inc({ strategy: s }, b.huge_pages_promoted);
      for (const reason of PROMOTE_BAILOUTS) {
        const n = b.promote_bailouts[reason] ?? 0;
        if (n > 0) this.bailouts.inc({ strategy: s, reason }, n);
      }
      this.vcpuStall.inc({ strategy: s }, b.vcpu_stall_s);
    }
  }
}
