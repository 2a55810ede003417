import type { MigrationJob } from '../../migration/job/migration-job.js';
import type { MigrationResult } from '../../migration/job/migration-result.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { Environment } from '../../engine/environment.js';
import type { Fleet, Host, Vm } from './build-fleet.js';
import type { FleetRunResult, JobRecord, WaveRecord } from './fleet-run-result.js';
import { hostFailureTimes } from './host-failure-times.js';
import { HostTable } from './host-table.js';
import { JobFactory } from './job-factory.js';
import type { JobPurpose, JobTransport } from './job-transport.js';
import { MigrationAttempts } from './migration-attempts.js';
import type { Progress } from './progress.js';
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
 */
export class FleetSimulation {
  private readonly env = new Environment();
  private readonly hosts: HostTable;
  private readonly gate = new ResultGate<InFlight>(this.env, (j, result) => this.complete(j, result));
  private readonly vmBusy = new Set<number>();
  private readonly attempts = new MigrationAttempts();
  private readonly records: JobRecord[] = [];
  private readonly waves: WaveRecord[] = [];
  private readonly pendingByHost = new Map<number, number[]>();
  private readonly failureAt: Map<number, number>;
  private readonly jobs: JobFactory;
  private migrationsRunning = 0;
  private jobsDone = 0;
  private currentWave = -1;
  private waveHosts: number[][] = [];
  private makespanS: number | null = null;
  private probeCursor = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly fleet: Fleet,
    runId: string,
    private readonly transport: JobTransport,
    private readonly onProgress?: (p: Progress) => void,
    private readonly onJobDone?: (record: JobRecord, srcHost: Host) => void,
  ) {
    const maxOut = scenario.policies.maintenance?.max_outbound ?? 1;
    const maxIn = scenario.policies.maintenance?.max_inbound ?? 1;
    this.hosts = new HostTable(fleet, maxOut, maxIn);
    this.failureAt = hostFailureTimes(scenario);
    this.jobs = new JobFactory(scenario, fleet, runId, this.failureAt, maxOut, maxIn);
  }

  /** Runs the scenario to its end (or horizon) and returns every job's record. */
  async run(): Promise<FleetRunResult> {
    const s = this.scenario;
    const env = this.env;
    for (const [host, at] of this.failureAt) env.callAt(at, () => this.hostFails(host));
    const m = s.policies.maintenance;
    if (m) {
      const n = m.hosts ?? this.fleet.hosts.length;
      for (let i = 0; i < n; i += m.wave_size) {
        this.waveHosts.push(Array.from({ length: Math.min(m.wave_size, n - i) }, (_, k) => i + k));
      }
      env.callAt(m.start, () => this.startWave(0));
    }
    if (s.policies.probes) {
      const p = s.policies.probes;
      for (let t = p.every; t < s.horizon; t += p.every) env.callAt(t, () => this.probeRound());
    }
    if (s.policies.rebalance) {
      const r = s.policies.rebalance;
      for (let t = r.every; t < s.horizon; t += r.every) env.callAt(t, () => this.rebalanceRound());
    }
    for (;;) {
      const t = env.peek();
      if (this.gate.blockedBefore(t)) {
        this.gate.take(await this.transport.nextResults());
        continue;
      }
      if (t === Infinity || t > s.horizon) break;
      env.step();
    }
    // Jobs still running at the horizon are left out of the records.
    this.records.sort((a, b) => a.serial - b.serial);
    return { jobs: this.records, waves: this.waves, makespanS: this.makespanS, endS: Math.min(env.now, s.horizon) };
  }

  private progress(): void {
    this.onProgress?.({
      simulatedS: this.env.now,
      jobsDone: this.jobsDone,
      jobsSubmitted: this.jobs.submitted,
      jobsInFlight: this.gate.size,
      wavesDone: this.waves.filter((w) => w.endS !== null).length,
      wavesTotal: this.waveHosts.length,
    });
  }

  // ---- jobs ----------------------------------------------------------------------------------------------

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
    const record: JobRecord = { id: j.id, serial: j.serial, purpose: j.purpose, wave: j.wave, vm: j.vm.id, src: j.src, dst: j.dst, attempt: j.attempt, startS: j.startS, endS: this.env.now, result };
    this.records.push(record);
    this.onJobDone?.(record, this.fleet.hosts[j.src]!);
    if (j.dst !== null) {
      this.migrationsRunning--;
      const moved = result.status === 'completed';
      this.hosts.release(j.vm, j.src, j.dst, moved);
      if (moved) {
        if (j.wave !== null) this.waves[j.wave]!.migrations++;
      } else if (j.purpose === 'maintenance' && this.hosts.state(j.src) === 'draining') {
        if (this.attempts.count(j.vm.id) < this.scenario.migration.max_attempts) this.pendingByHost.get(j.src)?.push(j.vm.id);
      }
    }
    j.onDone?.(result);
    this.progress();
    this.schedule();
  }

  // ---- hosts and maintenance -------------------------------------------------------------------------------

  private hostFails(host: number): void {
    this.hosts.setState(host, 'failed');
    // Its VMs are lost to the fleet: nothing more is migrated from it.
    this.pendingByHost.set(host, []);
    this.schedule();
  }

  private startWave(w: number): void {
    if (w >= this.waveHosts.length) return;
    this.currentWave = w;
    const hosts = this.waveHosts[w]!.filter((h) => this.hosts.state(h) !== 'failed');
    this.waves.push({ wave: w, hosts, startS: this.env.now, endS: null, migrations: 0, stuckVms: 0 });
    const vmsOf = this.hosts.vmsOn(hosts);
    for (const h of hosts) {
      this.hosts.setState(h, 'draining');
      const vms = vmsOf.get(h)!;
      this.pendingByHost.set(h, vms);
      for (const v of vms) this.attempts.reset(v);
    }
    this.progress();
    this.schedule();
  }

  private startMigration(purpose: JobPurpose, wave: number | null, vm: Vm, src: number, dst: number): void {
    this.hosts.reserve(vm, src, dst);
    this.submit(purpose, wave, vm, src, dst, 'migration');
  }

  /** Starts whatever migrations the limits and capacities allow; closes waves that are done. */
  private schedule(): void {
    const w = this.currentWave;
    if (w < 0 || w >= this.waveHosts.length || this.waves[w]?.endS !== null) return;
    const wave = this.waves[w]!;
    for (const h of wave.hosts) {
      if (this.hosts.state(h) !== 'draining') continue;
      const pending = this.pendingByHost.get(h)!;
      while (pending.length > 0 && this.hosts.hasOutboundSlot(h)) {
        const vm = this.fleet.vms[pending[0]!]!;
        if (this.vmBusy.has(vm.id)) break;
        const dst = this.hosts.destinationFor(vm, h);
        if (dst < 0) break;
        pending.shift();
        this.startMigration('maintenance', w, vm, h, dst);
      }
    }
    if (wave.hosts.some((h) => this.hosts.outbound(h) > 0)) return;
    if (wave.hosts.some((h) => (this.pendingByHost.get(h)?.length ?? 0) > 0)) {
      // Nothing in flight from this wave and nothing can start: wait while other migrations or upgrades may free
      // room, else give up on the rest.
      if (this.migrationsRunning > 0) return;
      if (this.hosts.anyUpgrading()) return;
    }
    // VMs still on the wave's hosts (no room, or attempts exhausted) stay where they are.
    const draining = wave.hosts.filter((h) => this.hosts.state(h) === 'draining');
    wave.stuckVms = 0;
    for (const vms of this.hosts.vmsOn(draining).values()) wave.stuckVms += vms.length;
    for (const h of draining) this.pendingByHost.set(h, []);
    wave.endS = this.env.now;
    this.makespanS = this.env.now;
    const upgrade = this.scenario.policies.maintenance!.upgrade_time;
    for (const h of draining) {
      this.hosts.setState(h, 'upgrading');
      this.env.callIn(upgrade, () => {
        if (this.hosts.state(h) === 'upgrading') this.hosts.setState(h, 'up');
        this.schedule();
      });
    }
    this.progress();
    this.env.callIn(0, () => this.startWave(w + 1));
  }

  // ---- probes and rebalancing ------------------------------------------------------------------------------

  private probeRound(): void {
    const p = this.scenario.policies.probes!;
    const n = this.fleet.vms.length;
    let started = 0;
    for (let k = 0; k < n && started < p.vms_per_round; k++) {
      const vm = this.fleet.vms[(this.probeCursor + k) % n]!;
      const h = this.hosts.hostOf(vm.id);
      if (h < 0 || this.vmBusy.has(vm.id) || this.hosts.state(h) === 'failed') continue;
      this.submit('probe', null, vm, h, null, 'dirty-rate-probe');
      started++;
    }
    this.probeCursor = (this.probeCursor + p.vms_per_round) % Math.max(1, n);
  }

  private rebalanceRound(): void {
    const r = this.scenario.policies.rebalance!;
    const load = (h: number) => this.hosts.load(h);
    let hi = -1;
    let lo = -1;
    for (let h = 0; h < this.fleet.hosts.length; h++) {
      if (this.hosts.state(h) !== 'up') continue;
      if (hi < 0 || load(h) > load(hi)) hi = h;
      if (lo < 0 || load(h) < load(lo)) lo = h;
    }
    if (hi < 0 || lo < 0 || hi === lo || load(hi) - load(lo) <= r.threshold) return;
    if (!this.hosts.hasOutboundSlot(hi) || !this.hosts.hasInboundSlot(lo)) return;
    const candidates = this.fleet.vms.filter((v) => this.hosts.hostOf(v.id) === hi && !this.vmBusy.has(v.id)).slice(0, r.probes_per_round);
    if (candidates.length === 0) return;
    const measured = new Map<number, number>();
    for (const vm of candidates) {
      this.submit('probe', null, vm, hi, null, 'dirty-rate-probe', (res) => {
        measured.set(vm.id, res.measured_dirty_rate_bytes_per_s ?? 0);
        if (measured.size < candidates.length) return;
        // Move the least dirty VM: the cheapest to migrate.
        const best = [...measured.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]!;
        const v = this.fleet.vms[best[0]]!;
        if (this.hosts.hostOf(v.id) !== hi || this.vmBusy.has(v.id) || this.hosts.state(lo) !== 'up') return;
        if (!this.hosts.fits(lo, v) || !this.hosts.hasInboundSlot(lo) || !this.hosts.hasOutboundSlot(hi)) return;
        this.startMigration('rebalance', null, v, hi, lo);
      });
    }
  }
}
