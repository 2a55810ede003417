import type { MigrationJob } from '../../migration/job/migration-job.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { Environment } from '../../engine/environment.js';
import type { Fleet, Host, Vm } from './build-fleet.js';
import type { FleetActions } from './fleet-actions.js';
import type { FleetRunResult, JobRecord } from './fleet-run-result.js';
import { hostFailureTimes } from './host-failure-times.js';
import { HostTable } from './host-table.js';
import { JobFactory } from './job-factory.js';
import type { JobPurpose, JobTransport } from './job-transport.js';
import { MaintenanceWaves } from './maintenance-waves.js';
import { MigrationAttempts } from './migration-attempts.js';
import { ProbeRounds } from './probe-rounds.js';
import type { Progress } from './progress.js';
import { Rebalancer } from './rebalancer.js';
import { ResultGate, type GatedJob } from './result-gate.js';

/** A job sent to the workers, with what applying its result needs. */
interface InFlight extends GatedJob {
  readonly purpose: JobPurpose;
  readonly wave: number | null;
  readonly vm: Vm;
  readonly src: number;
  readonly dst: number | null;
  readonly attempt: number;
  readonly onDone?: (r: MigrationResult) => void;
}

/**
 * The coordinator's cluster-level discrete-event simulation: rolling maintenance in waves (per-host limits on
 * concurrent outbound and inbound migrations, destinations chosen with capacity checks), periodic dirty-rate
 * probes, probe-driven rebalancing, cancellations and destination-host failures. Each migration or probe is a
 * job sent through the transport; the simulation only advances past a job's earliest possible end once its result
 * is in, and applies results at their simulated completion time (ties by job serial), so the outcome does not
 * depend on which worker finished first.
 *
 * It runs the parts: the {@link HostTable}, the policies ({@link MaintenanceWaves}, {@link ProbeRounds},
 * {@link Rebalancer}), the {@link JobFactory} and the {@link ResultGate}.
 */
export class FleetSimulation {
  private readonly env = new Environment();
  private readonly hosts: HostTable;
  private readonly attempts = new MigrationAttempts();
  private readonly failureAt: Map<number, number>;
  private readonly jobs: JobFactory;
  private readonly gate: ResultGate<InFlight>;
  private readonly maintenance: MaintenanceWaves | null;
  private readonly probes: ProbeRounds | null;
  private readonly rebalancer: Rebalancer | null;
  private readonly vmBusy = new Set<number>();
  private readonly records: JobRecord[] = [];
  private migrationsRunning = 0;
  private jobsDone = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly fleet: Fleet,
    runId: string,
    private readonly transport: JobTransport,
    private readonly onProgress?: (p: Progress) => void,
    private readonly onJobDone?: (record: JobRecord, srcHost: Host) => void,
  ) {
    const { maintenance, probes, rebalance } = scenario.policies;
    const maxOut = maintenance?.max_outbound ?? 1;
    const maxIn = maintenance?.max_inbound ?? 1;
    this.hosts = new HostTable(fleet, maxOut, maxIn);
    this.failureAt = hostFailureTimes(scenario);
    this.jobs = new JobFactory(scenario, fleet, runId, this.failureAt, maxOut, maxIn);
    this.gate = new ResultGate<InFlight>(this.env, (j, result) => this.complete(j, result));
    const actions: FleetActions = {
      isBusy: (vmId) => this.vmBusy.has(vmId),
      migrationsInFlight: () => this.migrationsRunning > 0,
      migrate: (purpose, wave, vm, src, dst) => this.migrate(purpose, wave, vm, src, dst),
      probe: (vm, host, onDone) => this.submit('probe', null, vm, host, null, 'dirty-rate-probe', onDone),
      progress: () => this.progress(),
    };
    const { env, hosts } = this;
    this.maintenance = maintenance ? new MaintenanceWaves(maintenance, scenario.migration.max_attempts, env, fleet, hosts, this.attempts, actions) : null;
    this.probes = probes ? new ProbeRounds(probes, scenario.horizon, env, fleet, hosts, actions) : null;
    this.rebalancer = rebalance ? new Rebalancer(rebalance, scenario.horizon, env, fleet, hosts, actions) : null;
  }

  /** Runs the scenario to its end (or horizon) and returns every job's record. */
  async run(): Promise<FleetRunResult> {
    const horizon = this.scenario.horizon;
    const env = this.env;
    for (const [host, at] of this.failureAt) env.callAt(at, () => this.hostFails(host));
    this.maintenance?.begin();
    this.probes?.begin();
    this.rebalancer?.begin();
    for (;;) {
      const t = env.peek();
      if (this.gate.blockedBefore(t)) {
        this.gate.take(await this.transport.nextResults());
        continue;
      }
      if (t === Infinity || t > horizon) break;
      env.step();
    }
    // Jobs still running at the horizon are left out of the records.
    this.records.sort((a, b) => a.serial - b.serial);
    return {
      jobs: this.records,
      waves: this.maintenance?.waves ?? [],
      makespanS: this.maintenance?.makespanS ?? null,
      endS: Math.min(env.now, horizon),
      network: null,
    };
  }

  private progress(): void {
    this.onProgress?.({
      simulatedS: this.env.now,
      jobsDone: this.jobsDone,
      jobsSubmitted: this.jobs.submitted,
      jobsInFlight: this.gate.size,
      wavesDone: this.maintenance?.wavesDone ?? 0,
      wavesTotal: this.maintenance?.wavesTotal ?? 0,
    });
  }

  private hostFails(host: number): void {
    this.hosts.setState(host, 'failed');
    this.maintenance?.hostFailed(host);
  }

  private migrate(purpose: JobPurpose, wave: number | null, vm: Vm, src: number, dst: number): void {
    this.hosts.reserve(vm, src, dst);
    this.submit(purpose, wave, vm, src, dst, 'migration');
  }

  private submit(purpose: JobPurpose, wave: number | null, vm: Vm, src: number, dst: number | null, kind: MigrationJob['kind'], onDone?: (r: MigrationResult) => void): void {
    const attempt = this.attempts.next(vm.id, kind);
    const startS = this.env.now;
    const { id, serial, job, lowerBoundS } = this.jobs.build({ purpose, vm, src, dst, kind, attempt }, startS);
    const j: InFlight = { id, serial, purpose, wave, vm, src, dst, attempt, startS, lowerBoundS, ...(onDone ? { onDone } : {}) };
    this.gate.admit(j);
    this.vmBusy.add(vm.id);
    if (dst !== null) this.migrationsRunning++;
    void this.transport.submit({ id, job });
  }

  /** Applies a job's result at its completion time. */
  private complete(j: InFlight, result: MigrationResult): void {
    this.vmBusy.delete(j.vm.id);
    this.jobsDone++;
    const record: JobRecord = { id: j.id, serial: j.serial, purpose: j.purpose, wave: j.wave, vm: j.vm.id, src: j.src, dst: j.dst, attempt: j.attempt, srcRack: 0, dstRack: j.dst === null ? null : 0, startS: j.startS, endS: this.env.now, result };
    this.records.push(record);
    this.onJobDone?.(record, this.fleet.hosts[j.src]!);
    if (j.dst !== null) {
      this.migrationsRunning--;
      const moved = result.status === 'completed';
      this.hosts.release(j.vm, j.src, j.dst, moved);
      if (j.wave !== null) this.maintenance?.migrationEnded(j.wave, j.vm.id, j.src, moved);
    }
    j.onDone?.(result);
    this.progress();
    this.maintenance?.schedule();
  }
}
