import { performance } from 'node:perf_hooks';
import type { BackingSource } from '../mmu/backing-source.js';
import { CostId } from '../mmu/cost-profile.js';
import type { CostProfile } from '../mmu/cost-profile.js';
import type { LedgerSnapshot } from '../mmu/cost-ledger.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging, kvmGetDirtyLog } from '../mmu/dirty-log.js';
import type { DisableStrategy } from '../mmu/disable-strategy.js';
import type { Kvm } from '../mmu/kvm.js';
import type { MmuStats } from '../mmu/mmu-stats.js';
import type { BailoutLikelihoods } from '../mmu/promote-bailout.js';
import type { KvmHost } from '../host/kvm-host.js';
import { mmuBehavioursOf } from '../host/mmu-behaviours-of.js';
import { Environment } from '../../engine/environment.js';
import { Rng } from '../../engine/rng.js';
import { MemstressActivity, MemstressVm } from './memstress.js';

/** `dirty_log_perf_test` parameters, already validated (see dirty-log-perf-options.ts). */
export interface DirtyLogPerfParams {
  readonly vcpus: number;
  readonly vcpuMemoryBytes: number;
  readonly iterations: number;
  readonly backing: BackingSource;
  /** `-e`: keep vCPUs running while logging is disabled. */
  readonly runVcpusDuringDisable: boolean;
  /** `-g` clears this: no KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (GET clears and protects; enable protects). */
  readonly manualProtect: boolean;
  readonly writePercent: number;
  readonly randomAccess: boolean;
  readonly slots: number;
  readonly seed: number;
  /** Strategies of the host's MMU (`strategiesOfMmu(kernel.tdpMmu)`), each run from the same pre-disable state. */
  readonly strategies: readonly DisableStrategy[];
  /** The host's KVM: the MMU, module parameters and release behaviours (`resolveKvmHost`). */
  readonly kernel: KvmHost;
  readonly thpCoverage: number;
  readonly bailouts: BailoutLikelihoods;
  readonly profile: CostProfile;
}

/** Simulated duration of a phase and the costs on its critical path (the slowest thread). */
export interface PhaseTiming {
  readonly ns: number;
  readonly counts: Float64Array;
}

export interface IterationTiming {
  readonly dirty: PhaseTiming;
  readonly get: PhaseTiming;
  readonly clear: PhaseTiming | undefined;
}

export interface StrategyRun {
  readonly strategy: DisableStrategy;
  readonly disable: PhaseTiming;
  /** Counters over the whole run (as `kvm->stat`), and over the disable alone. */
  readonly stats: MmuStats;
  readonly disableStats: MmuStats;
  /** Regions zapped for collapse that no vCPU has refaulted yet when the test ends. */
  readonly collapsedPending: number;
  /** Leaf mappings by level at the end (4K, 2M, 1G) and page-table pages left. */
  readonly pagesByLevel: readonly [number, number, number];
  readonly ptPages: number;
  readonly wallNs: number;
}

export interface DirtyLogPerfRun {
  readonly params: DirtyLogPerfParams;
  readonly guestPhysRange: readonly [number, number];
  readonly populate: PhaseTiming;
  readonly enable: PhaseTiming;
  readonly iterations: readonly IterationTiming[];
  readonly strategies: readonly StrategyRun[];
  /** Real time spent simulating the phases common to all strategies. */
  readonly commonWallNs: number;
  /** Peak bytes of model state (for the benchmark). */
  readonly peakStateBytes: number;
}

/** A phase's timing from the critical thread's ledger delta, plus `syncs` memstress GUEST_SYNC round trips. */
function phase(snapshot: LedgerSnapshot, profile: CostProfile, syncs: number = 0): PhaseTiming {
  const counts = snapshot.counts.slice();
  counts[CostId.vcpu_sync_ns]! += syncs;
  return { ns: snapshot.ns + syncs * profile.costs.vcpu_sync_ns, counts };
}

/**
 * Runs the selftest's `run_test` on the model: populate, enable, N iterations of (dirty memory, GET, CLEAR), then
 * disable once per strategy from the same pre-disable state. vCPU passes run in parallel on the discrete-event
 * engine; each ioctl takes the simulated time its ledger says.
 */
export function runDirtyLogPerf(params: DirtyLogPerfParams): DirtyLogPerfRun {
  const wall0 = performance.now();
  const vm = new MemstressVm({
    nrVcpus: params.vcpus,
    vcpuMemoryBytes: params.vcpuMemoryBytes,
    slots: params.slots,
    backing: params.backing,
    thpCoverage: params.thpCoverage,
    manualProtect: params.manualProtect,
    initiallySet: params.manualProtect,
    ...mmuBehavioursOf(params.kernel),
    profile: params.profile,
    seed: params.seed,
    bailouts: params.bailouts,
  });
  const kvm = vm.kvm;
  const rng = Rng.fromSeed(params.seed);
  const vcpuRngs = kvm.vcpus.map((v) => rng.fork(`vcpu${v.vcpuIdx}`));
  const syncNs = params.profile.costs.vcpu_sync_ns;
  let peakStateBytes = kvm.stateBytes;
  const notePeak = (): void => {
    peakStateBytes = Math.max(peakStateBytes, kvm.stateBytes);
  };

  const env = new Environment();
  let populate: PhaseTiming | undefined;
  let enable: PhaseTiming | undefined;
  const iterations: IterationTiming[] = [];

  /**
   * All vCPUs make one pass in parallel; resolves when the last reports GUEST_SYNC. On the shadow MMU the slow-path
   * faults of all vCPUs serialize on mmu_lock held for write: the pass then takes no less than the lock's hold times.
   */
  function* vcpuPass(writePercent: number, randomAccess: boolean) {
    const lockBefore = kvm.faultLock.snapshot();
    const done = kvm.vcpus.map((v) => {
      const before = v.ledger.snapshot();
      v.inGuest = true;
      const ns = vm.guestPass(v.vcpuIdx, writePercent, randomAccess, vcpuRngs[v.vcpuIdx]!);
      v.inGuest = false;
      return { ns, delta: v.ledger.since(before) };
    });
    notePeak();
    let slowest = done[0]!;
    for (const d of done) if (d.ns > slowest.ns) slowest = d;
    const lock = kvm.faultLock.since(lockBefore);
    const critical = lock.ns > slowest.ns ? lock : slowest.delta;
    yield env.timeout((critical.ns + syncNs) / 1e9);
    return phase(critical, params.profile, 1);
  }

  /** An ioctl on the main thread: its simulated time is what its ledger was charged. */
  function* ioctl(fn: () => void) {
    const before = kvm.ioctl.snapshot();
    fn();
    notePeak();
    const delta = kvm.ioctl.since(before);
    yield env.timeout(delta.ns / 1e9);
    return phase(delta, params.profile);
  }

  env.process(function* runTest() {
    populate = yield* vcpuPass(100, false);
    enable = yield* ioctl(() => {
      for (const slot of kvm.memslots) kvmEnableDirtyLogging(kvm, slot);
    });
    for (let it = 1; it <= params.iterations; it++) {
      const dirty = yield* vcpuPass(params.writePercent, params.randomAccess);
      const get = yield* ioctl(() => {
        for (const slot of kvm.memslots) kvmGetDirtyLog(kvm, slot);
      });
      const clear = params.manualProtect
        ? yield* ioctl(() => {
            for (const slot of kvm.memslots) kvmClearDirtyLog(kvm, slot, 0, slot.npages);
          })
        : undefined;
      iterations.push({ dirty, get, clear });
    }
  });
  env.run();
  const disableAtNs = env.now * 1e9;
  const commonWallNs = (performance.now() - wall0) * 1e6;

  const strategies = params.strategies.map((strategy) => {
    const w0 = performance.now();
    const branch = kvm.cloneState();
    const result = runDisable(vm, branch, strategy, params, disableAtNs);
    peakStateBytes = Math.max(peakStateBytes, kvm.stateBytes + branch.stateBytes);
    return { ...result, wallNs: (performance.now() - w0) * 1e6 };
  });
  return {
    params,
    guestPhysRange: [vm.vcpuStartGfn(0) * 4096, (vm.vcpuStartGfn(0) + vm.totalPages) * 4096],
    populate: populate!,
    enable: enable!,
    iterations,
    strategies,
    commonWallNs,
    peakStateBytes,
  };
}

function runDisable(
  vm: MemstressVm,
  kvm: Kvm,
  strategy: DisableStrategy,
  params: DirtyLogPerfParams,
  startNs: number,
): Omit<StrategyRun, 'wallNs'> {
  const statsBefore = kvm.stats.clone();
  const c = params.profile.costs;
  let activity: MemstressActivity | undefined;
  if (params.runVcpusDuringDisable) {
    for (const v of kvm.vcpus) v.inGuest = true;
    // Logging goes off at the start of the ioctl, so D-clean pages are written freely with PML; without PML each
    // page still write-protected takes one fault on the first pass.
    const wpNs = params.kernel.pml ? 0 : params.kernel.fastPageFault ? c.fault_fast_ns : c.fault_slow_wp_ns;
    activity = new MemstressActivity(vm, startNs, c.guest_access_4k_ns + wpNs, params.randomAccess, params.seed);
  }
  const env = new Environment({ initialTime: startNs / 1e9 });
  let disable: PhaseTiming | undefined;
  env.process(function* disableDirtyLogging() {
    const before = kvm.ioctl.snapshot();
    for (const slot of kvm.memslots) {
      const opts = activity ? { strategy, activity, startNs: startNs + (kvm.ioctl.ns - before.ns) } : { strategy };
      kvmDisableDirtyLogging(kvm, slot, opts);
    }
    const delta = kvm.ioctl.since(before);
    yield env.timeout(delta.ns / 1e9);
    disable = phase(delta, params.profile);
  });
  env.run();
  for (const v of kvm.vcpus) v.inGuest = false;
  const collapsedPending = kvm.collapsedRegionsPending();
  return {
    strategy,
    disable: disable!,
    stats: kvm.stats,
    disableStats: kvm.stats.since(statsBefore),
    collapsedPending,
    pagesByLevel: [kvm.mmu.pages[1]!, kvm.mmu.pages[2]!, kvm.mmu.pages[3]!],
    ptPages: kvm.mmu.spTotal,
  };
}
