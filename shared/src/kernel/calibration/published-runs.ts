import { DEFAULT_PROFILE } from '../mmu/default-profile.js';
import type { KvmHostSpec } from '../host/kvm-host.js';
import type { DisableStrategy } from '../mmu/disable-strategy.js';
import type { DirtyLogPerfRun } from '../selftest/dirty-log-perf.js';
import { MEASURED_POINTS } from './measured-points.js';
import type { SelftestRun } from './selftest-run.js';

/**
 * The published points of ../shared/reference/kvm-dirty-logging.md §8 (`MEASURED_POINTS`) as runs for `fitProfile`:
 * one run per point, every phase but the measured one NaN (not measured), and the kernel each point was measured
 * on, with the disable strategy the figure is of (a counterfactual where it is one: point a's `promote`).
 */
export function publishedRuns(): { runs: SelftestRun[]; kernelOf: (run: SelftestRun) => KvmHostSpec } {
  const kernels = new Map<string, KvmHostSpec>();
  const runs = MEASURED_POINTS.map((p, i): SelftestRun => {
    const params = p.params(DEFAULT_PROFILE);
    const k = params.kernel;
    const strategy = (/--strategy (\S+)/.exec(p.command)?.[1] ?? k.strategy) as DisableStrategy;
    const source = `point ${p.point} #${i + 1}: ${p.name}`;
    kernels.set(source, { release: k.release, cpu: k.cpu, tdpMmu: k.tdpMmu, nxHugePages: k.nxHugePages, eagerPageSplit: k.eagerPageSplit, fastPageFault: k.fastPageFault, pml: k.pml, strategy });
    // Which phase the point reads: mark it by reading a run whose every phase has a distinct time.
    const probe = phaseProbe(params.iterations, params.manualProtect);
    const read = p.read(probe as unknown as DirtyLogPerfRun).ns;
    const at = (id: number) => (id === read ? p.measuredSeconds : Number.NaN);
    return {
      source,
      config: {
        vcpus: params.vcpus,
        vcpuMemoryBytes: params.vcpuMemoryBytes,
        iterations: params.iterations,
        backing: params.backing,
        runVcpusDuringDisable: params.runVcpusDuringDisable,
        manualProtect: params.manualProtect,
        writePercent: params.writePercent,
        randomAccess: params.randomAccess,
        slots: params.slots,
      },
      host: { uname: null, cpu: null, kvmParams: {} },
      timings: {
        populateS: at(1),
        enableS: at(2),
        iterations: Array.from({ length: params.iterations }, (_, it) => ({ dirtyS: at(10 + 3 * it), getS: at(11 + 3 * it), clearS: params.manualProtect ? at(12 + 3 * it) : null })),
        disableS: at(3),
      },
    };
  });
  return { runs, kernelOf: (run) => kernels.get(run.source)! };
}

/** A stand-in run whose phases' `ns` are their ids (populate 1, enable 2, disable 3, iteration i: 10 + 3i …). */
function phaseProbe(iterations: number, manualProtect: boolean) {
  const t = (ns: number) => ({ ns, counts: new Float64Array(0) });
  const disable = t(3);
  return {
    populate: t(1),
    enable: t(2),
    iterations: Array.from({ length: iterations }, (_, it) => ({ dirty: t(10 + 3 * it), get: t(11 + 3 * it), clear: manualProtect ? t(12 + 3 * it) : undefined })),
    strategies: ['rmap-zap', 'zap-leaf', 'zap', 'zap-batched', 'promote'].map((strategy) => ({ strategy, disable })),
  };
}
