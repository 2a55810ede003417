import { commandOfConfig, paramsOfConfig, selftestRunOf } from '../../../../shared/src/kernel/calibration/fit-profile.js';
import { kernelSpecOfRun } from '../../../../shared/src/kernel/calibration/run-kernel.js';
import type { SelftestRun } from '../../../../shared/src/kernel/calibration/selftest-run.js';
import { resolveKvmHost } from '../../../../shared/src/kernel/host/resolve-kvm-host.js';
import { COST_KEYS, makeProfile, type CostKey, type CostProfile } from '../../../../shared/src/kernel/mmu/cost-profile.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { runDirtyLogPerf } from '../../../../shared/src/kernel/selftest/dirty-log-perf.js';

export type Config = SelftestRun['config'];
const M = 2 ** 20;

export const SMALL: Config = { vcpus: 4, vcpuMemoryBytes: 256 * M, iterations: 2, backing: 'anonymous', runVcpusDuringDisable: false, manualProtect: true, writePercent: 100, randomAccess: false, slots: 1 };

/** A recipe entry: run name, configuration over SMALL, `uname -r`, module parameters. */
export type RecipeEntry = readonly [string, Partial<Config>, string, Readonly<Record<string, string>>];

/** Runs on four kernels that together pin every fitted constant (5.14 and 5.15 for the faults and per-leaf flushes). */
export const ALL_KERNELS_RECIPE: readonly RecipeEntry[] = [
  ['anon', {}, '6.18.2', {}],
  ['anon-g', { manualProtect: false }, '6.18.2', {}],
  ['2m-e', { backing: 'anonymous_hugetlb_2mb', runVcpusDuringDisable: true }, '6.18.2', {}],
  ['1g-g', { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 1024 * M, manualProtect: false }, '6.18.2', {}],
  ['2m-g-noeager', { backing: 'anonymous_hugetlb_2mb', manualProtect: false }, '6.18.2', { 'kvm.eager_page_split': 'N' }],
  ['anon-nopml', {}, '6.18.2', { 'kvm_intel.pml': 'N' }],
  ['2m-e-6.12', { backing: 'anonymous_hugetlb_2mb', runVcpusDuringDisable: true }, '6.12.8', {}],
  ['2m-5.15', { backing: 'anonymous_hugetlb_2mb' }, '5.15.100', {}],
  ['anon-5.14-nopml', {}, '5.14.0', { 'kvm.tdp_mmu': 'Y', 'kvm_intel.pml': 'N' }],
];

/** The ~10-minute recipe of docs/calibrate.md on one 6.12 host (sizes scaled down). */
export const HOST_612_RECIPE: readonly RecipeEntry[] = [
  ['anon', {}, '6.12.8', {}],
  ['anon-g', { manualProtect: false }, '6.12.8', {}],
  ['2m', { backing: 'anonymous_hugetlb_2mb' }, '6.12.8', {}],
  ['2m-e', { backing: 'anonymous_hugetlb_2mb', runVcpusDuringDisable: true }, '6.12.8', {}],
  ['1g-g', { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 1024 * M, manualProtect: false }, '6.12.8', {}],
  ['anon-nopml', {}, '6.12.8', { 'kvm_intel.pml': 'N' }],
];

/** Configurations held back from the 6.12 recipe's fit, to be predicted. */
export const HOST_612_HELD_BACK: readonly RecipeEntry[] = [
  ['v8-512M', { vcpus: 8, vcpuMemoryBytes: 512 * M }, '6.12.8', {}],
  ['w50', { writePercent: 50 }, '6.12.8', {}],
  ['random', { randomAccess: true }, '6.12.8', {}],
  ['x4', { slots: 4 }, '6.12.8', {}],
  ['i4', { iterations: 4 }, '6.12.8', {}],
  ['2m-g', { backing: 'anonymous_hugetlb_2mb', manualProtect: false }, '6.12.8', {}],
  ['v16-2m-e', { vcpus: 16, vcpuMemoryBytes: 128 * M, backing: 'anonymous_hugetlb_2mb', runVcpusDuringDisable: true }, '6.12.8', {}],
  ['1g-e', { backing: 'anonymous_hugetlb_1gb', vcpuMemoryBytes: 1024 * M, runVcpusDuringDisable: true }, '6.12.8', {}],
];

/** `profile` with each named constant multiplied by its factor. */
export function scaled(factors: Partial<Record<CostKey, number>>, name: string = 'truth'): CostProfile {
  const costs = { ...DEFAULT_PROFILE.costs } as Record<CostKey, number>;
  for (const k of COST_KEYS) costs[k] *= factors[k] ?? 1;
  return makeProfile(name, costs, DEFAULT_PROFILE.params);
}

/** A deterministic multiplicative noise source: factors in [1 − amplitude, 1 + amplitude]. */
export function noise(seed: number, amplitude: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 1 + amplitude * (2 * (s / 2 ** 32) - 1);
  };
}

/** The recipe's runs simulated with `truth` (timings = phase ns / 1e9), each timing times `jitter()`. */
export function simulateRecipe(recipe: readonly RecipeEntry[], truth: CostProfile, jitter: () => number = () => 1): SelftestRun[] {
  return recipe.map(([name, c, uname, kvmParams]) => {
    const config = { ...SMALL, ...c };
    const host = { uname, cpu: null, kvmParams };
    const kernel = resolveKvmHost(kernelSpecOfRun({ source: name, config, host, timings: { populateS: 0, enableS: 0, iterations: [], disableS: 0 } }));
    const run = selftestRunOf(`${name}.txt`, config, runDirtyLogPerf(paramsOfConfig(config, kernel, truth)), host);
    const t = run.timings;
    return {
      ...run,
      timings: {
        populateS: t.populateS * jitter(),
        enableS: t.enableS * jitter(),
        iterations: t.iterations.map((it) => ({ dirtyS: it.dirtyS * jitter(), getS: it.getS * jitter(), clearS: it.clearS === null ? null : it.clearS * jitter() })),
        disableS: t.disableS * jitter(),
      },
    };
  });
}

/** The host that differs from the default in its assumed constants too (what a fit cannot see). */
export const ASSUMED_OFF: Partial<Record<CostKey, number>> = {
  ioctl_ns: 1.5,
  spte_walk_ns: 1.2,
  spte_wrprot_ns: 1.3,
  leaf_zap_ns: 0.8,
  sp_alloc_ns: 1.25,
  sp_free_ns: 0.8,
  dirty_log_word_ns: 1.2,
  guest_access_4k_ns: 1.25,
  guest_access_huge_ns: 0.8,
  host_alloc_4k_ns: 0.8,
  host_zero_ns_per_mib: 1.2,
  flush_vcpu_stall_ns: 1.3,
  vcpu_sync_ns: 0.7,
};

/** Phases the fitted constants carry (enable, later iterations' dirty memory, disable); the rest are mostly assumptions. */
export const CARRIED_BY_FITTED = /^(Enabling|Disabling)|^Iteration [2-9] dirty/;

/**
 * The cross-validation of docs/calibrate.md: a fit on HOST_612_RECIPE's runs (3 % noise, fitted constants 0.7–1.4×,
 * assumed ones ASSUMED_OFF) predicting HOST_612_HELD_BACK; one Markdown row per held-back configuration.
 */
export function crossValidationTable(fitted: readonly import('../../../../shared/src/kernel/calibration/fit-profile.js').FitRow[], held: readonly SelftestRun[]): string {
  const rows = ['| held-back run | configuration | phases | max \\|residual\\|, phases the fitted constants carry | max \\|residual\\|, all phases (phase) | rms |', '|---|---|---|---|---|---|'];
  for (const run of held) {
    const mine = fitted.filter((r) => r.source === run.source);
    const carried = mine.filter((r) => CARRIED_BY_FITTED.test(r.phase));
    const worst = mine.reduce((a, r) => (Math.abs(r.residual) > Math.abs(a.residual) ? r : a));
    const rms = Math.sqrt(mine.reduce((a, r) => a + r.residual ** 2, 0) / mine.length);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    rows.push(
      `| ${run.source} | \`${commandOfConfig(run.config).replace('dirty_log_perf_test ', '')}\` | ${mine.length} | ${pct(Math.max(...carried.map((r) => Math.abs(r.residual))))} | ${pct(Math.abs(worst.residual))} (${worst.phase.replace(/ time$/, '')}) | ${pct(rms)} |`,
    );
  }
  return rows.join('\n');
}
