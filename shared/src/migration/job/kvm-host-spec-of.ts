import type { KvmHostSpec } from '../../kernel/host/kvm-host.js';

/** The keys of a job's or host class's `kernel` object, by module parameter name (see `kernelSchema`). */
export interface KernelKeys {
  readonly release?: KvmHostSpec['release'] | undefined;
  readonly cpu?: KvmHostSpec['cpu'] | undefined;
  readonly tdp_mmu?: KvmHostSpec['tdpMmu'] | undefined;
  readonly nx_huge_pages?: KvmHostSpec['nxHugePages'] | undefined;
  readonly eager_page_split?: KvmHostSpec['eagerPageSplit'] | undefined;
  readonly fast_page_fault?: KvmHostSpec['fastPageFault'] | undefined;
  readonly pml?: KvmHostSpec['pml'] | undefined;
  readonly strategy?: KvmHostSpec['strategy'] | undefined;
}

/** A job's or host class's `kernel` object (module parameter names) as the spec `resolveKvmHost` takes. */
export function kvmHostSpecOf(k: KernelKeys): KvmHostSpec {
  return {
    ...(k.release !== undefined && { release: k.release }),
    ...(k.cpu !== undefined && { cpu: k.cpu }),
    ...(k.tdp_mmu !== undefined && { tdpMmu: k.tdp_mmu }),
    ...(k.nx_huge_pages !== undefined && { nxHugePages: k.nx_huge_pages }),
    ...(k.eager_page_split !== undefined && { eagerPageSplit: k.eager_page_split }),
    ...(k.fast_page_fault !== undefined && { fastPageFault: k.fast_page_fault }),
    ...(k.pml !== undefined && { pml: k.pml }),
    ...(k.strategy !== undefined && { strategy: k.strategy }),
  };
}
