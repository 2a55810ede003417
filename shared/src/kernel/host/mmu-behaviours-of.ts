import type { MmuBehaviours } from '../mmu/mmu-behaviours.js';
import type { KvmHost } from './kvm-host.js';

/** The flags the MMU models take from a resolved host (`KvmConfig`, the aggregate's config): no release, no provenance. */
export function mmuBehavioursOf(host: KvmHost): MmuBehaviours {
  return {
    tdpMmu: host.tdpMmu,
    eagerPageSplit: host.eagerPageSplit,
    pml: host.pml,
    fastPageFault: host.fastPageFault,
    nxHugePages: host.nxHugePages,
    nxAdjust: host.nxAdjust,
    splitOnFault: host.splitOnFault,
    zapLeafFlush: host.zapLeafFlush,
    zapWalksLeaves: host.zapWalksLeaves,
    rmapZapMaxLevel: host.rmapZapMaxLevel,
  };
}
