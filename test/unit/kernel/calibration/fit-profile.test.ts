import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CalibrationUnderdetermined } from '../../../../shared/src/kernel/calibration/errors/calibration-underdetermined.js';
import { commandOfConfig, fitProfile, FITTED_KEYS, paramsOfConfig, predictRuns } from '../../../../shared/src/kernel/calibration/fit-profile.js';
import { parseSelftestRun } from '../../../../shared/src/kernel/calibration/parse-selftest-run.js';
import { publishedRuns } from '../../../../shared/src/kernel/calibration/published-runs.js';
import { cpuModelOf, kernelSpecOfRun } from '../../../../shared/src/kernel/calibration/run-kernel.js';
import type { SelftestRun } from '../../../../shared/src/kernel/calibration/selftest-run.js';
import { resolveKvmHost } from '../../../../shared/src/kernel/host/resolve-kvm-host.js';
import type { CostKey } from '../../../../shared/src/kernel/mmu/cost-profile.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { runDirtyLogPerf } from '../../../../shared/src/kernel/selftest/dirty-log-perf.js';
import { formatDirtyLogPerfSelftest } from '../../../../shared/src/kernel/selftest/dirty-log-perf-report.js';
import { ALL_KERNELS_RECIPE, ASSUMED_OFF, crossValidationTable, HOST_612_HELD_BACK, HOST_612_RECIPE, noise, scaled, simulateRecipe, SMALL, type RecipeEntry } from './calibration-recipes.js';

/** Every fitted constant scaled by a known factor, 0.7 to 1.4. */
const FACTORS = Object.fromEntries(FITTED_KEYS.map((k, i) => [k, 0.7 + (0.7 * i) / (FITTED_KEYS.length - 1)])) as Record<CostKey, number>;

/** A RUN file as a user captures it: header, command line, then what `migsim dirty-log-perf --format selftest` prints. */
function runFile([name, c, uname, kvmParams]: RecipeEntry, truth = scaled(FACTORS)): SelftestRun {
  const config = { ...SMALL, ...c };
  const host = { uname, cpu: null, kvmParams };
  const kernel = resolveKvmHost(kernelSpecOfRun({ source: name, config, host, timings: { populateS: 0, enableS: 0, iterations: [], disableS: 0 } }));
  const sim = runDirtyLogPerf(paramsOfConfig(config, kernel, truth));
  const header = [uname, ...Object.entries(kvmParams).map(([k, v]) => `${k}=${v}`)];
  const text = [...header, `$ ./${commandOfConfig(config)}`, formatDirtyLogPerfSelftest(sim, kernel.strategy)].join('\n');
  return parseSelftestRun(text, `${name}.txt`);
}

describe('fitProfile', () => {
  it('round trip: runs printed in the selftest format for a profile with every fitted constant scaled by 0.7–1.4 are fitted back to those factors within 2 %', () => {
    const runs = ALL_KERNELS_RECIPE.map((e) => runFile(e));
    const fit = fitProfile(runs, { base: DEFAULT_PROFILE });
    for (const k of FITTED_KEYS) {
      const c = fit.constants.find((x) => x.key === k)!;
      expect(c.status, k).toBe('fitted');
      expect(c.value / DEFAULT_PROFILE.costs[k] / FACTORS[k], k).toBeGreaterThan(0.98);
      expect(c.value / DEFAULT_PROFILE.costs[k] / FACTORS[k], k).toBeLessThan(1.02);
    }
    // Printed to the nanosecond, the residuals are rounding only.
    expect(fit.rmsResidual).toBeLessThan(1e-3);
    expect(fit.contradictions).toEqual([]);
    // The assumed constants are the base's.
    expect(fit.profile.costs.guest_access_4k_ns).toBe(DEFAULT_PROFILE.costs.guest_access_4k_ns);
    // Which runs determine what: the 5.14 run without PML is the only one with slow-path write-protection faults.
    const slow = fit.constants.find((c) => c.key === 'fault_slow_wp_ns')!;
    expect(slow.determinedBy[0]!.source).toBe('anon-5.14-nopml.txt');
    expect(slow.dependsOn).toEqual(['anon-5.14-nopml.txt']);
    expect(slow.leaveOneOutSpread).toBeNull();
    expect(fit.constants.find((c) => c.key === 'memslot_update_ns')!.leaveOneOutSpread).toBeLessThan(1e-3);
  });

  it('the published points (measured-points.ts) as runs reproduce the default profile from a base 25 % off', () => {
    const { runs, kernelOf } = publishedRuns();
    const off = scaled(Object.fromEntries(FITTED_KEYS.map((k) => [k, 1.25])), 'off');
    const fit = fitProfile(runs, { base: off, kernelOf });
    for (const k of FITTED_KEYS) expect(fit.profile.costs[k] / DEFAULT_PROFILE.costs[k], k).toBeCloseTo(1, 6);
    for (const r of fit.rows) expect(Math.abs(r.residual), `${r.source}`).toBeLessThan(1e-6);
  });

  it('cross-validation: fitted on the 6.12 recipe (3 % noise, assumed constants 20–50 % off), it predicts held-back configurations: phases the fitted constants carry within 5 %, every phase within 30 %', () => {
    const truth = scaled({ ...FACTORS, ...ASSUMED_OFF });
    const train = simulateRecipe(HOST_612_RECIPE, truth, noise(7, 0.03));
    const held = simulateRecipe(HOST_612_HELD_BACK, truth, noise(11, 0.03));
    const fit = fitProfile(train, { base: DEFAULT_PROFILE });
    const predicted = predictRuns(held, fit.profile);
    expect(predicted.length).toBeGreaterThan(60);
    expect(Math.max(...predicted.map((r) => Math.abs(r.residual)))).toBeLessThan(0.3);
    // Enable (memslot update, eager split), later iterations' dirty memory (PML, faults), disable (zap / recovery).
    const carried = predicted.filter((r) => /^(Enabling|Disabling)|^Iteration [2-9] dirty/.test(r.phase));
    expect(carried.length).toBeGreaterThan(25);
    for (const r of carried) expect(Math.abs(r.residual), `${r.source} ${r.phase}`).toBeLessThan(0.05);
    // docs/calibrate.md holds this table.
    expect(readFileSync('docs/calibrate.md', 'utf8')).toContain(crossValidationTable(predicted, held));
  });

  it('refuses an underdetermined fit, naming each constant and the run that would pin it', () => {
    // 6.12 host: no -e run, no PML-off run.
    const runs = HOST_612_RECIPE.filter(([n]) => n !== '2m-e' && n !== 'anon-nopml').map((e) => runFile(e));
    let err: unknown;
    try {
      fitProfile(runs, { base: DEFAULT_PROFILE });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CalibrationUnderdetermined);
    const u = (err as CalibrationUnderdetermined).unpinned;
    const by = Object.fromEntries(u.map((x) => [x.key, x]));
    expect(Object.keys(by).sort()).toEqual(['fault_fast_ns', 'tlb_flush_per_running_vcpu_ns']);
    expect(by.tlb_flush_per_running_vcpu_ns!.reason).toContain('no run disables with running vCPUs (-e)');
    expect(by.tlb_flush_per_running_vcpu_ns!.suggestion).toMatch(/add `dirty_log_perf_test .*-e`/);
    expect(by.fault_fast_ns!.reason).toContain('kvm_intel.pml=N');
    expect(by.fault_fast_ns!.suggestion).toContain('with kvm_intel.pml=N');
    expect((err as Error).message).toContain('tlb_flush_per_running_vcpu_ns');
  });

  it('refuses a 6.18 host with only anonymous runs: no HugeTLB run, so nothing on the disable and split costs', () => {
    const runs = ALL_KERNELS_RECIPE.filter(([n]) => n === 'anon' || n === 'anon-g').map((e) => runFile(e));
    expect(() => fitProfile(runs, { base: DEFAULT_PROFILE })).toThrow(/child_spte_teardown_ns: .*add `dirty_log_perf_test [^`]*-s anonymous_hugetlb_(2mb|1gb)/);
  });

  it('keeps, and says so, what no run on the kernel can pin: slow-path faults after 5.15, a per-region flush beside the per-region zap on 6.12', () => {
    const fit = fitProfile(HOST_612_RECIPE.map((e) => runFile(e)), { base: DEFAULT_PROFILE });
    const kept = fit.constants.filter((c) => c.status === 'kept').map((c) => c.key).sort();
    expect(kept).toEqual(['fault_slow_wp_ns', 'tlb_flush_base_ns']);
    expect(fit.constants.find((c) => c.key === 'fault_slow_wp_ns')!.note).toMatch(/no dirty_log_perf_test run on 6.12 spends time on it/);
    expect(fit.constants.find((c) => c.key === 'tlb_flush_base_ns')!.note).toMatch(/separates it from/);
    expect(fit.profile.costs.tlb_flush_base_ns).toBe(DEFAULT_PROFILE.costs.tlb_flush_base_ns);
  });

  it('reports runs of one configuration that contradict each other, per run, instead of averaging them away', () => {
    const runs = HOST_612_RECIPE.map((e) => runFile(e));
    const again = runs.find((r) => r.source === 'anon.txt')!;
    const it = again.timings.iterations;
    const slow: SelftestRun = { ...again, source: 'anon-again.txt', timings: { ...again.timings, iterations: [it[0]!, { ...it[1]!, dirtyS: it[1]!.dirtyS * 1.4 }] } };
    const fit = fitProfile([...runs, slow], { base: DEFAULT_PROFILE });
    const c = fit.contradictions.find((x) => x.phase === 'Iteration 2 dirty memory time');
    expect(c, JSON.stringify(fit.contradictions)).toBeDefined();
    expect(c!.runs.map((r) => r.source).sort()).toEqual(['anon-again.txt', 'anon.txt']);
    expect(c!.configuration).toBe('dirty_log_perf_test -v 4 -b 256M on 6.12');
    const [a, b] = c!.runs;
    expect(Math.abs(a!.residual - b!.residual)).toBeGreaterThan(0.15);
  });

  it('reads the kernel from the header: uname -r, the CPU model, kvm parameters; --kernel wins', () => {
    const run = runFile(['x', {}, '6.12.8-200.fc41.x86_64', { 'kvm.tdp_mmu': 'Y', 'kvm_intel.pml': 'N' }]);
    expect(kernelSpecOfRun(run)).toEqual({ release: '6.12', tdpMmu: true, pml: false });
    expect(kernelSpecOfRun(run, { release: '6.6' }).release).toBe('6.6');
    expect(cpuModelOf('Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz')).toBe('cascadelake');
    expect(cpuModelOf('AMD EPYC 7B13 64-Core Processor')).toBe('epyc');
    expect(cpuModelOf('Intel(R) Core(TM) i7-8700')).toBeUndefined();
    expect(() => kernelSpecOfRun({ ...run, host: { ...run.host, uname: '4.19.0' } })).toThrow(/give the closest one with --kernel/);
  });
});
