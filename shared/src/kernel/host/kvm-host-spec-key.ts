import type { KvmHostSpec } from './kvm-host.js';

/** A spec as a string, equal for equal specs: the key of the resolved-host caches. */
export function kvmHostSpecKey(spec: KvmHostSpec): string {
  return `${spec.release}|${spec.cpu}|${spec.tdpMmu}|${spec.nxHugePages}|${spec.eagerPageSplit}|${spec.fastPageFault}|${spec.pml}|${spec.strategy}`;
}
