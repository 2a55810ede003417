import { RATE_HISTORY_MAX_POINTS, type MigrationJob } from '../../migration/job/migration-job.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';
import type { CostProfile } from '../../kernel/mmu/cost-profile.js';
import { resolveProfile, type ProfileSpec } from '../../kernel/mmu/resolve-profile.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { Environment } from '../../engine/environment.js';
import { Fabric } from '../network/fabric.js';
import { fabricSpecOf } from '../network/fabric-spec-of.js';
import { FlowNetwork } from '../network/flow-network.js';
import { LinkUsage } from '../network/link-usage.js';
import { tenantTrafficOf } from '../network/tenant-traffic.js';
import { resolveMigrationPolicy } from '../policy/resolve-migration-policy.js';
import type { Fleet, Host, Vm } from './build-fleet.js';
import { FleetInvariantViolation } from './errors/index.js';
import type { FleetActions } from './fleet-actions.js';
import { FleetMigration, type MigrationOver } from './fleet-migration.js';
import type { FleetRunResult, JobRecord } from './fleet-run-result.js';
import { hostFailureTimes } from './host-failure-times.js';
import { HostTable, hostLimitsFrom } from './host-table.js';
import { JobFactory } from './job-factory.js';
import type { JobOutcome, JobPurpose, JobTransport } from './job-transport.js';
import { MaintenanceWaves } from './maintenance-waves.js';
import { MigrationAttempts } from './migration-attempts.js';
import { ProbeRounds } from './probe-rounds.js';
import type { Progress } from './progress.js';
import { Rebalancer } from './rebalancer.js';
import { COMPLETION_PRIORITY, ResultGate, type GatedJob } from './result-gate.js';

/**
 * Migration results the coordinator may wait for at once before it stops to take them in (memory bound: each one
 * holds its record until the worker's result arrives).
 */
export const MAX_AWAITED_RESULTS = 2000;

/**
 * How far a worker's replay of a migration may end from the coordinator's run of it, relative: both compute the same
 * steps over the same rates, but the coordinator learns a rate change after a step may already have been planned at
 * the same instant, so the two can differ in the last bits.
 */
export const REPLAY_TOLERANCE = 1e-9;

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
 * Receives each job's record once, when it belongs to the run: in completion order on the coordinator's clock (a
 * record whose worker result is not in yet holds back the records that completed after it), so the order is the
 * same embedded and distributed, whatever order the workers' results arrive in.
 */
export type RecordSink = (record: JobRecord, srcHost: Host) => void;

/** A job completed on the fleet clock, waiting in completion order to be handed on (a migration's until its result is in). */
interface Completed {
  readonly record: Omit<JobRecord, 'result'>;
  result: MigrationResult | null;
}

/** A migration whose run is over on the coordinator: its record waits for the worker's result. */
interface Awaited {
  readonly record: Omit<JobRecord, 'result'> & { readonly dst: number };
  readonly over: MigrationOver;
  /** Its place in the completion order, once the completion has been applied at its time. */
  completed: Completed | null;
  /** The worker's result, once in. */
  result: MigrationResult | null;
}

/**
 * The coordinator's cluster-level discrete-event simulation: rolling maintenance in waves (per-host limits on
 * concurrent outbound and inbound migrations, destinations chosen with capacity checks), periodic dirty-rate
 * probes, probe-driven rebalancing, cancellations and destination-host failures, with every migration's flow
 * sharing the fabric (host NICs, rack uplinks, spine) max-min fairly.
 *
 * Migrations interact through the fabric, so their timelines are the coordinator's: it runs each migration's
 * precopy on the fleet clock ({@link FleetMigration}), its flow's rate changing as other flows start and end, and
 * applies its end (after any disable, holding the source's slot) at the time the run gives. The job then goes to a
 * worker with the rates its flow got (`migration.rate_history`): the worker replays it exactly and simulates what
 * does not feed back into the fleet (the MMU blocks of every strategy, the whole cost), and its result becomes the
 * job's record; a replay that ends elsewhere than the coordinator's run is an invariant failure. Probes share no
 * link: they are jobs the simulation waits for at their earliest possible end ({@link ResultGate}). Neither depends
 * on which worker finished first, so embedded and distributed runs give the same records.
 *
 * It runs the parts: the {@link HostTable}, the policies ({@link MaintenanceWaves}, {@link ProbeRounds},
 * {@link Rebalancer}), the {@link JobFactory}, the {@link FlowNetwork} and the {@link ResultGate}.
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
  /** Every record, when there is no sink (`run()` returns them); with a sink, records are not kept. */
  private readonly records: JobRecord[] = [];
  /** Completed jobs in completion order, from the first whose record has not been handed on. */
  private readonly completions: Completed[] = [];
  private completionsHead = 0;
  private readonly fabric: Fabric;
  private readonly usage: LinkUsage;
  private readonly network: FlowNetwork;
  private readonly profiles = new Map<string, CostProfile>();
  /** Migrations over on the coordinator whose worker result has not been taken in, by job id. */
  private readonly awaited = new Map<string, Awaited>();
  private migrationsRunning = 0;
  private jobsDone = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly fleet: Fleet,
    runId: string,
    private readonly transport: JobTransport,
    private readonly onProgress?: (p: Progress) => void,
    private readonly onJobDone?: (record: JobRecord, srcHost: Host) => void,
    private readonly sink?: RecordSink,
  ) {
    const { maintenance, probes, rebalance } = scenario.policies;
    const maxOut = maintenance?.max_outbound ?? 1;
    const maxIn = maintenance?.max_inbound ?? 1;
    this.hosts = new HostTable(fleet, maxOut, maxIn, hostLimitsFrom(resolveMigrationPolicy(scenario), fleet));
    this.failureAt = hostFailureTimes(scenario);
    this.jobs = new JobFactory(scenario, fleet, runId, this.failureAt);
    this.fabric = new Fabric(fabricSpecOf(scenario, fleet.hosts.map((h) => h.nicBytesPerS)));
    this.usage = new LinkUsage(this.fabric);
    this.network = new FlowNetwork(this.fabric, this.env, tenantTrafficOf(scenario.cluster.network), this.usage);
    this.gate = new ResultGate<InFlight>(this.env, (j, result) => this.complete(j, result));
    const actions: FleetActions = {
      isBusy: (vmId) => this.vmBusy.has(vmId),
      migrationsInFlight: () => this.migrationsRunning > 0,
      migrate: (purpose, wave, vm, src, dst) => this.migrate(purpose, wave, vm, src, dst),
      probe: (vm, host, onDone) => this.submit('probe', null, vm, host, null, 'dirty-rate-probe', onDone),
      progress: () => this.progress(),
    };
    const { env, hosts } = this;
    this.maintenance = maintenance ? new MaintenanceWaves(maintenance, scenario.migration.max_attempts, env, fleet, hosts, this.attempts, actions, this.fabric.spec.hostsPerRack) : null;
    this.probes = probes ? new ProbeRounds(probes, scenario.horizon, env, fleet, hosts, actions) : null;
    this.rebalancer = rebalance ? new Rebalancer(rebalance, scenario.horizon, env, fleet, hosts, actions) : null;
  }

  /**
   * Runs the scenario to its end (or horizon). Without a sink it returns every job's record (by serial); with one,
   * each record went to the sink as it joined the run and `jobs` is empty.
   */
  async run(): Promise<FleetRunResult> {
    const horizon = this.scenario.horizon;
    const env = this.env;
    for (const [host, at] of this.failureAt) env.callAt(at, () => this.hostFails(host));
    this.maintenance?.begin();
    this.probes?.begin();
    this.rebalancer?.begin();
    for (;;) {
      // Let a distributed transport send what was submitted while the simulation goes on (pipelining).
      if (this.transport.wantsTurn?.() === true) this.take(await this.transport.turn!());
      const t = env.peek();
      if (this.gate.blockedBefore(t) || this.awaited.size + this.held() >= MAX_AWAITED_RESULTS) {
        this.take(await this.transport.nextResults());
        continue;
      }
      if (t === Infinity || t > horizon) break;
      env.step();
    }
    // Every job sent is taken in; jobs still running at the horizon are left out of the records.
    while (this.awaited.size > 0) this.take(await this.transport.nextResults());
    if (this.held() > 0) throw new FleetInvariantViolation(`${this.held()} completed jobs never got their results`);
    this.records.sort((a, b) => a.serial - b.serial);
    const endS = Math.min(env.now, horizon);
    return {
      jobs: this.records,
      waves: this.maintenance?.waves ?? [],
      makespanS: this.maintenance?.makespanS ?? null,
      endS,
      network: this.usage.finish(endS, this.fabric.spec.hostsPerRack),
    };
  }

  /** Results from the transport: a migration's completes its record; a probe's goes to the gate. */
  private take(outcomes: readonly JobOutcome[]): void {
    const probes: JobOutcome[] = [];
    for (const o of outcomes) {
      const a = this.awaited.get(o.id);
      if (a === undefined) probes.push(o);
      else {
        checkReplay(o.id, a.over.result, o.result);
        a.result = o.result;
        this.awaited.delete(o.id);
        if (a.completed !== null) {
          a.completed.result = o.result;
          this.flush();
        }
      }
    }
    if (probes.length > 0) this.gate.take(probes);
  }

  /** Completed jobs held back, waiting for an earlier completion's result. */
  private held(): number {
    return this.completions.length - this.completionsHead;
  }

  /** A job completed on the fleet clock: it takes its place in the completion order. */
  private completed(c: Completed): void {
    this.completions.push(c);
    this.flush();
  }

  /** Hands on the records at the head of the completion order whose results are in. */
  private flush(): void {
    const q = this.completions;
    while (this.completionsHead < q.length) {
      const c = q[this.completionsHead]!;
      if (c.result === null) break;
      this.completionsHead++;
      const record: JobRecord = { ...c.record, result: c.result };
      const src = this.fleet.hosts[record.src]!;
      if (this.sink) this.sink(record, src);
      else this.records.push(record);
      this.onJobDone?.(record, src);
    }
    if (this.completionsHead === q.length) {
      q.length = 0;
      this.completionsHead = 0;
    } else if (this.completionsHead > 1024 && this.completionsHead * 2 > q.length) {
      q.splice(0, this.completionsHead);
      this.completionsHead = 0;
    }
  }

  private progress(): void {
    this.onProgress?.({
      simulatedS: this.env.now,
      jobsDone: this.jobsDone,
      jobsSubmitted: this.jobs.submitted,
      jobsInFlight: this.gate.size + this.migrationsRunning,
      flowsActive: this.network.active,
      linkUtilisation: this.usage.utilisationNow(),
      wavesDone: this.maintenance?.wavesDone ?? 0,
      wavesTotal: this.maintenance?.wavesTotal ?? 0,
    });
  }

  private hostFails(host: number): void {
    this.hosts.setState(host, 'failed');
    this.maintenance?.hostFailed(host);
  }

  /**
   * Starts a migration: the destination's memory is reserved and both hosts' slots taken from now until the job's
   * end; its run goes on the fleet clock, its flow on the fabric.
   */
  private migrate(purpose: JobPurpose, wave: number | null, vm: Vm, src: number, dst: number): void {
    this.hosts.reserve(vm, src, dst);
    const attempt = this.attempts.next(vm.id, 'migration');
    const startS = this.env.now;
    const { id, serial, job } = this.jobs.build({ purpose, vm, src, dst, kind: 'migration', attempt }, startS);
    this.vmBusy.add(vm.id);
    this.migrationsRunning++;
    const record = { id, serial, purpose, wave, vm: vm.id, src, dst, attempt, srcRack: this.fabric.rackOf(src), dstRack: this.fabric.rackOf(dst), startS };
    const run = new FleetMigration(this.env, this.network, this.fabric.route(src, dst), job, this.profileOf(job.kernel.profile), startS, (over) => {
      const points = (over.rateHistory?.length ?? 0) / 2;
      if (points > RATE_HISTORY_MAX_POINTS) {
        throw new FleetInvariantViolation(
          `job ${id}: its flow's rate changed ${points} times, more than the ${RATE_HISTORY_MAX_POINTS} a job can carry to a worker; ` +
            'lower policies.maintenance.max_outbound/max_inbound or the wave size so fewer flows share each link',
        );
      }
      const a: Awaited = { record: { ...record, endS: over.endS }, over, completed: null, result: null };
      this.awaited.set(id, a);
      void this.transport.submit({ id, job: { ...job, migration: { ...job.migration, rate_history: over.rateHistory } } });
      this.env.callAt(over.endS, () => this.migrationEnded(a), COMPLETION_PRIORITY + serial);
    });
    run.start();
  }

  /** A migration's job ends (after any disable): its slots and the VM are free, the wave learns where the VM is. */
  private migrationEnded(a: Awaited): void {
    const { record, over } = a;
    this.vmBusy.delete(record.vm);
    this.jobsDone++;
    this.migrationsRunning--;
    const vm = this.fleet.vms[record.vm]!;
    const moved = over.result.status === 'completed';
    this.hosts.release(vm, record.src, record.dst, moved);
    if (record.wave !== null) this.maintenance?.migrationEnded(record.wave, vm.id, record.src, moved);
    a.completed = { record: a.record, result: a.result };
    this.completed(a.completed);
    this.progress();
    this.maintenance?.schedule();
  }

  private profileOf(spec: ProfileSpec): CostProfile {
    const key = typeof spec === 'string' ? spec : JSON.stringify(spec);
    let p = this.profiles.get(key);
    if (p === undefined) {
      p = resolveProfile(spec);
      this.profiles.set(key, p);
    }
    return p;
  }

  private submit(purpose: JobPurpose, wave: number | null, vm: Vm, src: number, dst: number | null, kind: MigrationJob['kind'], onDone?: (r: MigrationResult) => void): void {
    const attempt = this.attempts.next(vm.id, kind);
    const startS = this.env.now;
    const { id, serial, job, lowerBoundS } = this.jobs.build({ purpose, vm, src, dst, kind, attempt }, startS);
    const j: InFlight = { id, serial, purpose, wave, vm, src, dst, attempt, startS, lowerBoundS, ...(onDone ? { onDone } : {}) };
    this.gate.admit(j);
    this.vmBusy.add(vm.id);
    void this.transport.submit({ id, job });
  }

  /** Applies a probe's result at its completion time. */
  private complete(j: InFlight, result: MigrationResult): void {
    this.vmBusy.delete(j.vm.id);
    this.jobsDone++;
    const record = { id: j.id, serial: j.serial, purpose: j.purpose, wave: j.wave, vm: j.vm.id, src: j.src, dst: j.dst, attempt: j.attempt, srcRack: this.fabric.rackOf(j.src), dstRack: j.dst === null ? null : this.fabric.rackOf(j.dst), startS: j.startS, endS: this.env.now };
    this.completed({ record, result });
    j.onDone?.(result);
    this.progress();
    this.maintenance?.schedule();
  }
}

/**
 * A worker's result against the coordinator's run of the same migration: the same status, and the same end within
 * {@link REPLAY_TOLERANCE}.
 * @throws FleetInvariantViolation if they differ: the worker did not replay the run the fleet applied.
 */
function checkReplay(id: string, mine: MigrationResult, theirs: MigrationResult): void {
  const a = mine.total_time_s;
  const b = theirs.total_time_s;
  if (mine.status !== theirs.status || !(Math.abs(a - b) <= REPLAY_TOLERANCE * Math.max(1, Math.abs(a)))) {
    throw new FleetInvariantViolation(
      `job ${id}: the worker's replay ended ${theirs.status} after ${b} s, the coordinator's run ${mine.status} after ${a} s; ` +
        'both must simulate the same migration over the same rates (is the worker running another version of migsim?)',
    );
  }
}
