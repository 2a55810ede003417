import { kvmHostSpecKey } from './kvm-host-spec-key.js';
import { TDP_MMU_STRATEGIES } from '../mmu/disable-strategy.js';
import { CPU_MODELS, DEFAULT_CPU, type CpuModelName } from './cpu-models.js';
import { KernelSettingsInvalid, type KernelSettingsIssue } from './errors/kernel-settings-invalid.js';
import { formatKernelVersion, isKnownRelease, NEWEST_RELEASE, OLDEST_RELEASE, parseKernelVersion } from './kernel-version.js';
import type { HostDisableStrategy, KvmHost, KvmHostSpec } from './kvm-host.js';
import { changeAt, RELEASE_CHANGES, type ReleaseChange } from './release-changes.js';

/** The release assumed when none is given: the newest long-term release, which recovers huge pages in place. */
export const DEFAULT_RELEASE = '6.18';

const cite = (release: string, c: ReleaseChange<unknown>): string => `release ${release}${c.commit ? ` (since ${c.since}: ${c.commit})` : ` (as in ${c.since})`}`;

/** Hosts resolved so far, by spec: a fleet's jobs name a handful of kernels (KvmHost is immutable, so shared). */
const resolved = new Map<string, KvmHost>();

/**
 * The host's KVM from its spec. Field names in issues are the schemas' (`release`, `tdp_mmu`, …). Throws
 * KernelSettingsInvalid for a release migsim does not know or an override no such kernel can take: PML on a CPU
 * without it, eager page splitting before it existed, a disable path of the other MMU.
 */
export function resolveKvmHost(spec: KvmHostSpec = {}): KvmHost {
  const key = kvmHostSpecKey(spec);
  let host = resolved.get(key);
  if (!host) {
    host = resolve(spec);
    resolved.set(key, host);
  }
  return host;
}

function resolve(spec: KvmHostSpec): KvmHost {
  const issues: KernelSettingsIssue[] = [];
  const releaseText = spec.release ?? DEFAULT_RELEASE;
  const parsed = parseKernelVersion(releaseText);
  if (!parsed || !isKnownRelease(parsed)) {
    throw new KernelSettingsInvalid([{ field: 'release', message: `'${releaseText}' is not a release migsim models; give MAJOR.MINOR from ${OLDEST_RELEASE} to ${NEWEST_RELEASE}` }]);
  }
  const release = formatKernelVersion(parsed);
  const cpuName: CpuModelName = spec.cpu ?? DEFAULT_CPU;
  const cpu = CPU_MODELS[cpuName];
  const at = <T>(changes: readonly ReleaseChange<T>[]) => changeAt(changes, parsed);

  const tdpDefault = at(RELEASE_CHANGES.tdpMmuDefault);
  const tdpMmu = spec.tdpMmu ?? tdpDefault.value;
  const eps = at(RELEASE_CHANGES.eagerPageSplit);
  if (spec.eagerPageSplit === true && !eps.value) issues.push({ field: 'eager_page_split', message: `kvm.eager_page_split does not exist in ${release} (${eps.what})` });
  const eagerPageSplit = (spec.eagerPageSplit ?? eps.value) && eps.value && tdpMmu;
  if (spec.pml === true && !cpu.pml) issues.push({ field: 'pml', message: `${cpuName} has no PML (${cpu.source})` });
  const pml = spec.pml ?? cpu.pml;
  const fpf = at(RELEASE_CHANGES.tdpFastPageFault);
  // The shadow MMU has had fast_page_fault long before the oldest release modelled.
  const fastPageFault = spec.fastPageFault ?? (tdpMmu ? fpf.value : true);
  const nxHugePages = spec.nxHugePages ?? cpu.itlbMultihit;
  const tdpDisable = at(RELEASE_CHANGES.tdpDisable);
  const strategy: HostDisableStrategy = spec.strategy ?? (tdpMmu ? tdpDisable.value : 'rmap-zap');
  if (tdpMmu && strategy === 'rmap-zap') issues.push({ field: 'strategy', message: "'rmap-zap' is the shadow MMU's disable: set tdp_mmu: false" });
  if (!tdpMmu && (TDP_MMU_STRATEGIES as readonly HostDisableStrategy[]).includes(strategy)) issues.push({ field: 'strategy', message: `'${strategy}' is a TDP MMU disable: with tdp_mmu: false the host zaps through rmaps ('rmap-zap')` });
  if (issues.length > 0) throw new KernelSettingsInvalid(issues);

  const splitOnFault = at(RELEASE_CHANGES.splitOnFault);
  const nxAdjust = at(RELEASE_CHANGES.nxAdjust);
  const zapLeafFlush = at(RELEASE_CHANGES.zapLeafFlush);
  const zapWalksLeaves = at(RELEASE_CHANGES.zapWalksLeaves);
  const rmapZapMaxLevel = at(RELEASE_CHANGES.rmapZapMaxLevel);
  const nxRecovery = at(RELEASE_CHANGES.nxRecoverySkipsLogged);
  const given = 'given';
  return {
    release,
    cpu: cpuName,
    tdpMmu,
    nxHugePages,
    eagerPageSplit,
    fastPageFault,
    pml,
    strategy,
    splitOnFault: tdpMmu ? splitOnFault.value : 'zap-map-4k',
    nxAdjust: nxAdjust.value,
    zapLeafFlush: zapLeafFlush.value,
    zapWalksLeaves: zapWalksLeaves.value,
    rmapZapMaxLevel: rmapZapMaxLevel.value === 2 ? 2 : 1,
    nxRecoverySkipsLogged: nxRecovery.value,
    provenance: {
      release: spec.release === undefined ? `default (${DEFAULT_RELEASE})` : given,
      cpu: spec.cpu === undefined ? `default (${DEFAULT_CPU})` : given,
      tdpMmu: spec.tdpMmu === undefined ? cite(release, tdpDefault) : given,
      nxHugePages: spec.nxHugePages === undefined ? `auto: ${cpuName} ${cpu.itlbMultihit ? 'has' : 'does not have'} X86_BUG_ITLB_MULTIHIT (${cpu.source})` : given,
      eagerPageSplit: !tdpMmu ? 'no eager split on the shadow MMU (kvm_mmu_slot_try_split_huge_pages returns without the TDP MMU)' : spec.eagerPageSplit === undefined ? cite(release, eps) : given,
      fastPageFault: spec.fastPageFault !== undefined ? given : tdpMmu ? cite(release, fpf) : 'the shadow MMU always has fast_page_fault',
      pml: spec.pml === undefined ? `${cpuName}: ${cpu.pml ? 'PML, kvm_intel.pml=Y by default' : 'no PML'}` : given,
      strategy: spec.strategy !== undefined ? given : tdpMmu ? cite(release, tdpDisable) : 'the shadow MMU zaps collapsible SPTEs through rmaps (kvm_mmu_zap_collapsible_sptes) in every release',
      splitOnFault: tdpMmu ? cite(release, splitOnFault) : 'the shadow MMU zaps the huge SPTE and maps 4K (drop_large_spte) in every release',
      nxAdjust: cite(release, nxAdjust),
      zapLeafFlush: cite(release, zapLeafFlush),
      zapWalksLeaves: cite(release, zapWalksLeaves),
      rmapZapMaxLevel: cite(release, rmapZapMaxLevel),
      nxRecoverySkipsLogged: cite(release, nxRecovery),
    },
  };
}
