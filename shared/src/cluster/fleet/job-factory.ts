import type { MigrationJob } from '../../migration/job/migration-job.js';
import { earliestEndS, firstPassSeconds } from '../../migration/precopy/earliest-end.js';
import { precopyBandwidth } from '../../migration/precopy/send-bandwidth.js';
import { zeroShare } from '../../migration/workload/zero-share.js';
import { unitHash } from '../../engine/rng.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { Fleet, Vm } from './build-fleet.js';
import type { JobPurpose } from './job-transport.js';

/** Salt of the draw deciding whether an operator cancels a migration. */
const SALT_CANCEL = 0x43414e43;
/** Salt of the draw placing a cancellation within the migration's first pass. */
const SALT_CANCEL_AT = 0x41544341;
/** Salt of the draw giving each job its own seed. */
const SALT_SEED = 0x53454544;
/** A cancellation falls within the first pass, no sooner than this share of it. */
const CANCEL_EARLIEST_SHARE = 0.05;

/** A job ready to be sent, with what the simulation needs to wait for it. */
export interface BuiltJob {
  /** `<runId>.<key>`: the same job of the same run always has the same id. */
  readonly id: string;
  /** Jobs are numbered in submission order; the number drives the job's draws and orders same-time completions. */
  readonly serial: number;
  readonly job: MigrationJob;
  /** Simulated time before which the job cannot end (see `earliestEndS`). */
  readonly lowerBoundS: number;
}

/** What a job is for and where it runs. */
export interface JobRequest {
  readonly purpose: JobPurpose;
  readonly vm: Vm;
  readonly src: number;
  /** The destination of a migration; null for a probe. */
  readonly dst: number | null;
  readonly kind: MigrationJob['kind'];
  /** The VM's attempt number (see `MigrationAttempts.next`). */
  readonly attempt: number;
}

/**
 * Builds the fleet's jobs. Everything random about a job is drawn with `unitHash` from the scenario's seed and the
 * job's serial, so a job depends only on the order jobs are submitted in, never on which worker runs it or when its
 * result arrives: its seed, whether an operator cancels it and when (within its first pass, the part of its run
 * known before it starts). A migration gets the bandwidth of its path alone (the smaller NIC; the fabric shares it)
 * and the time its destination fails, if it does.
 */
export class JobFactory {
  private serial = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly fleet: Fleet,
    private readonly runId: string,
    /** When hosts fail (see `hostFailureTimes`). */
    private readonly failureAt: ReadonlyMap<number, number>,
  ) {}

  /** Jobs built so far. */
  get submitted(): number {
    return this.serial;
  }

  /** The next job, started at simulated time `nowS`. */
  build(request: JobRequest, nowS: number): BuiltJob {
    const serial = this.serial++;
    const { purpose, vm, src, dst, kind, attempt } = request;
    const key = `${purpose}-vm${vm.id}-a${attempt}-${kind === 'migration' ? 'mig' : 'probe'}-s${serial}`;
    const job = this.jobFor(serial, vm, src, dst, kind, nowS);
    return { id: `${this.runId}.${key}`, serial, job, lowerBoundS: nowS + earliestEndS(job) };
  }

  /**
   * Bandwidth of the path from `src` to `dst` with nothing else on it: the smaller NIC. The fabric shares it with
   * the other flows as they come and go (`FlowNetwork`); this is the most the migration's flow can get.
   */
  private linkBandwidth(src: number, dst: number): number {
    return Math.min(this.fleet.hosts[src]!.nicBytesPerS, this.fleet.hosts[dst]!.nicBytesPerS);
  }

  private jobFor(serial: number, vm: Vm, src: number, dst: number | null, kind: MigrationJob['kind'], nowS: number): MigrationJob {
    const s = this.scenario;
    const link = dst === null ? null : this.linkBandwidth(src, dst);
    const dstFailS = dst === null ? undefined : this.failureAt.get(dst);
    return {
      kind,
      model: 'migsim',
      seed: unitHash(s.seed, SALT_SEED, serial) * 2 ** 31 >>> 0,
      vm: {
        ram_bytes: vm.ramBytes,
        vcpus: vm.vcpus,
        backing: s.vms.backing,
        thp_coverage: s.vms.thp_coverage,
        zero_fraction: s.vms.zero_fraction,
        workload: vm.workload,
        dirty_ring_size: s.vms.dirty_ring_size,
      },
      migration: {
        max_bandwidth_bytes_per_s: s.migration.max_bandwidth,
        link_bandwidth_bytes_per_s: link,
        multifd_channels: s.migration.multifd_channels,
        downtime_limit_s: s.migration.downtime_limit,
        auto_converge: s.migration.auto_converge,
        dirty_limit_bytes_per_s: s.migration.dirty_limit,
        postcopy: s.migration.postcopy,
        timeout_s: s.migration.timeout,
        timeout_action: s.migration.timeout_action,
        cancel_at_s: kind === 'migration' ? this.cancelAt(serial, vm, link) : null,
        fail_at_s: dstFailS !== undefined && dstFailS >= nowS ? dstFailS - nowS : null,
        horizon_s: Math.max(1, s.horizon - nowS),
        rate_history: null,
      },
      probe: { calc_time_s: s.policies.probes?.calc_time ?? 1, mode: s.policies.probes?.mode ?? 'page-sampling' },
      kernel: this.fleet.hosts[src]!.kernel,
      bailouts: s.vms.bailouts,
    };
  }

  /** When an operator cancels migration `serial` (seconds after its start), or null if no one does. */
  private cancelAt(serial: number, vm: Vm, link: number | null): number | null {
    const s = this.scenario;
    const p = s.events.cancellation_probability;
    if (p <= 0 || unitHash(s.seed, SALT_CANCEL, serial) >= p) return null;
    const bandwidth = precopyBandwidth({ max_bandwidth_bytes_per_s: s.migration.max_bandwidth, link_bandwidth_bytes_per_s: link, multifd_channels: s.migration.multifd_channels });
    const firstPassS = firstPassSeconds(vm.ramBytes, zeroShare(s.vms.zero_fraction, vm.workload), bandwidth);
    return firstPassS * (CANCEL_EARLIEST_SHARE + (1 - CANCEL_EARLIEST_SHARE) * unitHash(s.seed, SALT_CANCEL_AT, serial));
  }
}
