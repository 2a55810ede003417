import type { KvmHostSpec } from '../../kernel/host/kvm-host.js';
import type { KernelSettings } from './migration-job.js';

/** A job's or host class's `kernel` object (module parameter names) as the spec `resolveKvmHost` takes. */
export function kvmHostSpecOf(k: Omit<KernelSettings, 'manual_protect' | 'profile'>): KvmHostSpec {
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
