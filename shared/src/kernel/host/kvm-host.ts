import type { DisableStrategy } from '../mmu/disable-strategy.js';
import type { MmuBehaviours } from '../mmu/mmu-behaviours.js';
import type { CpuModelName } from './cpu-models.js';

/** Every way a host may disable dirty logging: the shadow MMU's rmap zap, and the TDP MMU's four (DISABLE_STRATEGIES). */
export type HostDisableStrategy = DisableStrategy;

/** What a host's kernel settings are given as: a release and a CPU, and overrides of module parameters. */
export interface KvmHostSpec {
  /** `MAJOR.MINOR`. @defaultValue DEFAULT_RELEASE */
  readonly release?: string;
  /** @defaultValue DEFAULT_CPU (skylake) */
  readonly cpu?: CpuModelName;
  /** `kvm.tdp_mmu`. @defaultValue the release's default */
  readonly tdpMmu?: boolean;
  /** The NX huge-page mitigation (`kvm.nx_huge_pages`). @defaultValue `auto`: on when the CPU has iTLB multihit */
  readonly nxHugePages?: boolean;
  /** `kvm.eager_page_split` (only from 5.18, TDP MMU only). @defaultValue Y where it exists */
  readonly eagerPageSplit?: boolean;
  /** TDP MMU `fast_page_fault` (a model switch: kernels have no parameter for it). @defaultValue the release's */
  readonly fastPageFault?: boolean;
  /** `kvm_intel.pml`. @defaultValue Y on CPUs with PML */
  readonly pml?: boolean;
  /** The disable path, to model a backport or a counterfactual. @defaultValue the release's and the MMU's */
  readonly strategy?: HostDisableStrategy;
}

/**
 * A host's KVM as it behaves: module parameters resolved from the release, the CPU and the overrides, plus the
 * release-keyed behaviours the models follow. `provenance` says for each field where its value came from.
 */
export interface KvmHost extends MmuBehaviours {
  readonly release: string;
  readonly cpu: CpuModelName;
  /** The disable path in effect. */
  readonly strategy: HostDisableStrategy;
  readonly nxRecoverySkipsLogged: boolean;
  readonly provenance: Readonly<Record<Exclude<keyof KvmHost, 'provenance'>, string>>;
}
