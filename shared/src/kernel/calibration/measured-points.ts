import { SELFTEST_DEFAULT_SEED, SELFTEST_DEFAULTS } from '../selftest/selftest-defaults.js';
import type { CostKey } from '../mmu/cost-profile.js';
import type { DisableStrategy } from '../mmu/disable-strategy.js';
import { NO_BAILOUTS } from '../mmu/promote-bailout.js';
import type { CostProfile } from '../mmu/cost-profile.js';
import type { KvmHostSpec } from '../host/kvm-host.js';
import { resolveKvmHost } from '../host/resolve-kvm-host.js';
import type { DirtyLogPerfParams, DirtyLogPerfRun, PhaseTiming } from '../selftest/dirty-log-perf.js';

/** A measured figure of ../shared/reference/kvm-dirty-logging.md §8 and how to read it off a model run. */
export interface MeasuredPoint {
  /** Point id in the reference (a, b, c, d) and a name for this figure. */
  readonly point: 'a' | 'b' | 'c' | 'd';
  readonly name: string;
  /** The dirty_log_perf_test command line it was measured with (as migsim flags). */
  readonly command: string;
  readonly measuredSeconds: number;
  readonly source: string;
  /** The constant this figure determines in the default profile. */
  readonly fits: CostKey;
  /** The run's parameters; figures read off the same run share this function, so that it is run once. */
  readonly params: (profile: CostProfile) => DirtyLogPerfParams;
  readonly read: (run: DirtyLogPerfRun) => PhaseTiming;
}

const GiB = 1 << 30;

function params(profile: CostProfile, kernel: KvmHostSpec, p: Partial<DirtyLogPerfParams>): DirtyLogPerfParams {
  return {
    ...SELFTEST_DEFAULTS,
    seed: SELFTEST_DEFAULT_SEED,
    strategies: ['zap-leaf', 'zap', 'zap-batched', 'promote'],
    kernel: resolveKvmHost(kernel),
    thpCoverage: 1,
    bailouts: NO_BAILOUTS,
    profile,
    ...p,
  };
}

function disableOf(strategy: DisableStrategy): (run: DirtyLogPerfRun) => PhaseTiming {
  return (run) => {
    const s = run.strategies.find((x) => x.strategy === strategy);
    if (!s) throw new Error(`run has no ${strategy} strategy`);
    return s.disable;
  };
}

const A_SRC = 'Gardon v1 cover 20211115234603.2908381-1-bgardon@google.com (text in CANgfPd8AHMdXAKrOVOwfAps+0qXVfkHD6EY-kW6oU+DisqGiLg@mail.gmail.com)';
const B_SRC = 'Matlack v1 20240805233114.4060019-1-dmatlack@google.com; commits 35ef80eb29ab, 13e2e4f62a4b';
const C_SRC = 'Matlack eager-split v2 20220119230739.2234394-1-dmatlack@google.com';
const D_SRC = 'Matlack fast-PF v2 20210630214802.1902448-1-dmatlack@google.com';

/**
 * Point a: Skylake, 96 vCPUs × 1 GiB, 1 GiB HugeTLB, vCPUs idle during disable, Nov-2021 TDP MMU (5.15/5.16: the
 * leaf zap with a flush per leaf, no eager split; `promote` is Gardon's series applied to it).
 */
const pointA = (profile: CostProfile) =>
  params(profile, { release: '5.15', cpu: 'skylake' }, { vcpus: 96, backing: 'anonymous_hugetlb_1gb', strategies: ['zap-leaf', 'promote'] });
/**
 * Point b: 64 vCPUs × 4 GiB, 2 MiB HugeTLB, vCPUs running during disable (-e), 2024 kvm-x86 kernel (the 6.12 code
 * plus the two patches; host CPU unstated, the default assumed).
 */
const pointB = (profile: CostProfile) =>
  params(profile, { release: '6.12' }, {
    vcpus: 64,
    vcpuMemoryBytes: 4 * GiB,
    backing: 'anonymous_hugetlb_2mb',
    runVcpusDuringDisable: true,
    strategies: ['zap', 'zap-batched', 'promote'],
  });
/**
 * Point c: 96 vCPUs × 1 GiB, 1 GiB HugeTLB, no manual protect (-g), eager split N → Y: the eager-split series of early
 * 2022, merged for 5.18 (a3fe5dbda0a4); without it a write splits on fault by zapping and mapping 4K.
 */
const pointC = (eagerPageSplit: boolean) => (profile: CostProfile) =>
  params(profile, { release: '5.18', eagerPageSplit }, { vcpus: 96, backing: 'anonymous_hugetlb_1gb', manualProtect: false, strategies: ['zap'] });
const pointCEagerOff = pointC(false);
const pointCEagerOn = pointC(true);
/**
 * Point d: Cascade Lake, 64 vCPUs, eptad=0 pml=0, the TDP MMU of mid 2021 without → with its fast page fault
 * (6e8eb2060cc7, 5.15): 5.14 with kvm.tdp_mmu=Y, then 5.15.
 */
const pointD = (release: '5.14' | '5.15') => (profile: CostProfile) =>
  params(profile, { release, cpu: 'cascadelake', pml: false, ...(release === '5.14' && { tdpMmu: true }) }, { vcpus: 64, strategies: ['zap'] });

export const MEASURED_POINTS: readonly MeasuredPoint[] = [
  {
    point: 'a',
    name: 'disable, zap each collapsible leaf (Nov-2021 TDP MMU)',
    command: '-v 96 -b 1G -s anonymous_hugetlb_1gb --kernel 5.15 --cpu skylake --strategy zap-leaf',
    measuredSeconds: 45.73843951,
    source: A_SRC,
    fits: 'tlb_flush_base_ns',
    params: pointA,
    read: disableOf('zap-leaf'),
  },
  {
    point: 'a',
    name: 'disable, in-place promotion (Gardon v1)',
    command: '-v 96 -b 1G -s anonymous_hugetlb_1gb --kernel 5.15 --cpu skylake --strategy promote',
    measuredSeconds: 1.400549627,
    source: A_SRC,
    fits: 'child_spte_teardown_ns',
    params: pointA,
    read: disableOf('promote'),
  },
  {
    point: 'b',
    name: 'disable, zap with a flush per 2 MiB region (131,072 flushes)',
    command: '-v 64 -b 4G -s anonymous_hugetlb_2mb -e --kernel 6.12 --strategy zap',
    measuredSeconds: 14.334453428,
    source: B_SRC,
    fits: 'tlb_flush_per_running_vcpu_ns',
    params: pointB,
    read: disableOf('zap'),
  },
  {
    point: 'b',
    name: 'disable, zap with batched flushes (76 flushes)',
    command: '-v 64 -b 4G -s anonymous_hugetlb_2mb -e --kernel 6.12 --strategy zap-batched',
    measuredSeconds: 4.794969689,
    source: B_SRC,
    fits: 'nonleaf_spte_replace_ns',
    params: pointB,
    read: disableOf('zap-batched'),
  },
  {
    point: 'c',
    name: 'enable, eager split off',
    command: '-v 96 -b 1G -s anonymous_hugetlb_1gb -g --kernel 5.18 --eager-split off',
    measuredSeconds: 0.001683739,
    source: C_SRC,
    fits: 'memslot_update_ns',
    params: pointCEagerOff,
    read: (run) => run.enable,
  },
  {
    point: 'c',
    name: 'enable, eager split on',
    command: '-v 96 -b 1G -s anonymous_hugetlb_1gb -g --kernel 5.18 --eager-split on',
    measuredSeconds: 1.546904175,
    source: C_SRC,
    fits: 'split_child_spte_ns',
    params: pointCEagerOn,
    read: (run) => run.enable,
  },
  {
    point: 'c',
    name: 'iteration 1 dirty memory, eager split on',
    command: '-v 96 -b 1G -s anonymous_hugetlb_1gb -g --kernel 5.18 --eager-split on',
    measuredSeconds: 0.145979748,
    source: C_SRC,
    fits: 'pml_logged_write_ns',
    params: pointCEagerOn,
    read: (run) => run.iterations[0]!.dirty,
  },
  {
    point: 'c',
    name: 'iteration 1 dirty memory, eager split off',
    command: '-v 96 -b 1G -s anonymous_hugetlb_1gb -g --kernel 5.18 --eager-split off',
    measuredSeconds: 2.943733325,
    source: C_SRC,
    fits: 'fault_not_present_ns',
    params: pointCEagerOff,
    read: (run) => run.iterations[0]!.dirty,
  },
  {
    point: 'd',
    name: 'iteration 2 dirty memory, slow-path write-protection faults',
    command: '-v 64 --kernel 5.14 --tdp-mmu on --cpu cascadelake --pml off',
    measuredSeconds: 3.545234984,
    source: D_SRC,
    fits: 'fault_slow_wp_ns',
    params: pointD('5.14'),
    read: (run) => run.iterations[1]!.dirty,
  },
  {
    point: 'd',
    name: 'iteration 2 dirty memory, TDP MMU fast page fault',
    command: '-v 64 --kernel 5.15 --cpu cascadelake --pml off',
    measuredSeconds: 0.315209625,
    source: D_SRC,
    fits: 'fault_fast_ns',
    params: pointD('5.15'),
    read: (run) => run.iterations[1]!.dirty,
  },
];

/** Point b's batched flush count, which sets the yield interval. */
export const B_BATCHED_FLUSHES = 76;
export const pointBParams = pointB;
