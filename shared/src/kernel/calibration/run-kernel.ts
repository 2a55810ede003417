import type { CpuModelName } from '../host/cpu-models.js';
import { formatKernelVersion, isKnownRelease, NEWEST_RELEASE, OLDEST_RELEASE, parseKernelVersion } from '../host/kernel-version.js';
import type { KvmHostSpec } from '../host/kvm-host.js';
import { KernelSettingsInvalid } from '../host/errors/kernel-settings-invalid.js';
import type { SelftestRun } from './selftest-run.js';

/**
 * The migsim CPU model of a `/proc/cpuinfo` model name, where it can be told: AMD EPYC, and Intel Xeon Scalable by
 * generation (the second digit of the model number: 1 Skylake, 2 Cascade Lake, 3 Ice Lake, 4 and 5 Sapphire/Emerald
 * Rapids). Undefined otherwise (the default CPU applies).
 */
export function cpuModelOf(text: string): CpuModelName | undefined {
  if (/\b(EPYC|AMD)\b/i.test(text)) return 'epyc';
  const m = /(Platinum|Gold|Silver|Bronze)\s+\d(\d)\d\d/i.exec(text);
  if (!m) return undefined;
  return ({ '1': 'skylake', '2': 'cascadelake', '3': 'icelake', '4': 'sapphirerapids', '5': 'sapphirerapids' } as const)[m[2]! as '1'] ?? undefined;
}

/** A module parameter's value as sysfs prints it (`Y`, `N`, `1`, `0`); undefined for `auto` and the like. */
function flag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (['y', '1', 'on', 'true', 'force'].includes(v)) return true;
  if (['n', '0', 'off', 'false'].includes(v)) return false;
  return undefined;
}

/**
 * The kernel settings a run's header states: the release of `uname -r` (`6.12.8-200.fc41.x86_64` → 6.12), the CPU
 * model, and the `kvm.*` / `kvm_intel.*` parameters migsim models. `override` (the command's `--kernel`) wins over
 * the header. Throws KernelSettingsInvalid naming the run when the release is not one migsim models.
 */
export function kernelSpecOfRun(run: SelftestRun, override: KvmHostSpec = {}): KvmHostSpec {
  const spec: { -readonly [K in keyof KvmHostSpec]: KvmHostSpec[K] } = {};
  if (run.host.uname !== null && override.release === undefined) {
    const m = /^(\d+)\.(\d+)/.exec(run.host.uname.trim());
    const v = m ? parseKernelVersion(`${m[1]}.${m[2]}`) : undefined;
    if (!v || !isKnownRelease(v)) {
      throw new KernelSettingsInvalid([
        { field: 'release', message: `${run.source}: uname '${run.host.uname}' is not a release migsim models (${OLDEST_RELEASE} to ${NEWEST_RELEASE}); give the closest one with --kernel` },
      ]);
    }
    spec.release = formatKernelVersion(v);
  }
  const cpu = run.host.cpu !== null ? cpuModelOf(run.host.cpu) : undefined;
  if (cpu) spec.cpu = cpu;
  const p = run.host.kvmParams;
  const tdpMmu = flag(p['kvm.tdp_mmu']);
  if (tdpMmu !== undefined) spec.tdpMmu = tdpMmu;
  const nx = flag(p['kvm.nx_huge_pages']);
  if (nx !== undefined) spec.nxHugePages = nx;
  const eps = flag(p['kvm.eager_page_split']);
  if (eps !== undefined) spec.eagerPageSplit = eps;
  const pml = flag(p['kvm_intel.pml']);
  if (pml !== undefined) spec.pml = pml;
  return { ...spec, ...override };
}
