/**
 * Host CPUs, as far as dirty logging cares: the vendor, whether the CPU has the iTLB-multihit erratum (which makes
 * `kvm.nx_huge_pages=auto` turn the NX huge-page mitigation on), and whether it has PML (Intel Page Modification
 * Logging; AMD's PML series, `20260105063622.894410-1-nikunj@amd.com`, is in no release up to 6.19).
 *
 * `X86_BUG_ITLB_MULTIHIT` is set unless the CPU is in `cpu_vuln_whitelist` with NO_ITLB_MULTIHIT (all AMD and
 * Hygon, old Atoms) or enumerates `ARCH_CAP_PSCHANGE_MC_NO` (`arch/x86/kernel/cpu/common.c`, `cpu_set_bug_bits`);
 * `get_nx_auto_mode()` (`arch/x86/kvm/mmu/mmu.c`) turns the mitigation on when the bug is set.
 */
export interface CpuModel {
  readonly name: string;
  readonly vendor: 'intel' | 'amd';
  readonly itlbMultihit: boolean;
  readonly pml: boolean;
  /** Where the two flags come from. */
  readonly source: string;
}

const INTEL_BIG_CORE = 'Intel big core, not in cpu_vuln_whitelist (arch/x86/kernel/cpu/common.c)';

export const CPU_MODELS = {
  skylake: { name: 'skylake', vendor: 'intel', itlbMultihit: true, pml: true, source: `${INTEL_BIG_CORE}; does not enumerate PSCHANGE_MC_NO (Documentation/admin-guide/hw-vuln/multihit.rst: present on most Intel Core and Xeon models). The seed's host (point a).` },
  cascadelake: { name: 'cascadelake', vendor: 'intel', itlbMultihit: true, pml: true, source: `${INTEL_BIG_CORE}; PSCHANGE_MC_NO not enumerated (assumption: as Skylake, same core). Point d's host.` },
  icelake: { name: 'icelake', vendor: 'intel', itlbMultihit: false, pml: true, source: 'assumption: Ice Lake server enumerates PSCHANGE_MC_NO (Intel lists it as not affected by CVE-2018-12207); not verified in kernel source' },
  sapphirerapids: { name: 'sapphirerapids', vendor: 'intel', itlbMultihit: false, pml: true, source: 'assumption: enumerates PSCHANGE_MC_NO like Ice Lake; not verified in kernel source' },
  epyc: { name: 'epyc', vendor: 'amd', itlbMultihit: false, pml: false, source: 'all AMD is whitelisted NO_ITLB_MULTIHIT (cpu_vuln_whitelist); no PML on SVM in any release up to 6.19' },
} as const satisfies Record<string, CpuModel>;

export type CpuModelName = keyof typeof CPU_MODELS;
export const CPU_MODEL_NAMES = Object.keys(CPU_MODELS) as CpuModelName[];

/** The CPU assumed when none is named: the seed's Skylake, whose measurement (point a) anchors the default profile. */
export const DEFAULT_CPU: CpuModelName = 'skylake';
