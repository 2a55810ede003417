import { COST_KEYS } from '../../shared/src/kernel/mmu/cost-profile.js';
import { DEFAULT_PROFILE } from '../../shared/src/kernel/mmu/default-profile.js';
import type { BackingSource } from '../../shared/src/kernel/mmu/backing-source.js';
import { Kvm, type KvmConfig } from '../../shared/src/kernel/mmu/kvm.js';
import type { MmuBehaviours } from '../../shared/src/kernel/mmu/mmu-behaviours.js';
import { NO_BAILOUTS, type BailoutLikelihoods } from '../../shared/src/kernel/mmu/promote-bailout.js';

export const BASE_GFN = 0x100000;

/**
 * The behaviours the detailed-model tests assume unless they say otherwise: the TDP MMU with the NX mitigation off
 * and the split on fault that zaps and maps 4K (as calibration point c measured it); `makeKvm` takes overrides.
 */
export const TEST_BEHAVIOURS: Omit<MmuBehaviours, 'eagerPageSplit' | 'pml' | 'fastPageFault'> = {
  tdpMmu: true,
  nxHugePages: false,
  nxAdjust: 'nx-child-only',
  splitOnFault: 'zap-map-4k',
  zapLeafFlush: 'per-leaf',
  zapWalksLeaves: false,
  rmapZapMaxLevel: 2,
};

export interface VmShape {
  backing: BackingSource;
  /** memslot sizes in pages, laid out back to back from BASE_GFN */
  slotPages: number[];
  nrVcpus: number;
  manualProtect: boolean;
  eagerPageSplit: boolean;
  pml: boolean;
  fastPageFault: boolean;
  thpCoverage: number;
  seed: number;
  bailouts?: BailoutLikelihoods;
  /** Overrides of TEST_BEHAVIOURS (the MMU, NX, release code paths). */
  behaviours?: Partial<MmuBehaviours>;
}

export function makeKvm(shape: VmShape): Kvm {
  let base = BASE_GFN;
  const memslots = shape.slotPages.map((npages) => {
    const s = { baseGfn: base, npages };
    base += npages;
    return s;
  });
  const config: KvmConfig = {
    ...TEST_BEHAVIOURS,
    ...shape.behaviours,
    memslots,
    backing: shape.backing,
    thpCoverage: shape.thpCoverage,
    nrVcpus: shape.nrVcpus,
    manualProtect: shape.manualProtect,
    initiallySet: shape.manualProtect,
    eagerPageSplit: shape.eagerPageSplit,
    pml: shape.pml,
    fastPageFault: shape.fastPageFault,
    profile: DEFAULT_PROFILE,
    seed: shape.seed,
    bailouts: shape.bailouts ?? NO_BAILOUTS,
  };
  return new Kvm(config);
}

export function totalPages(kvm: Kvm): number {
  return kvm.memslots.reduce((n, s) => n + s.npages, 0);
}

/**
 * Checks that the compact page tables describe a tree: nothing below a leaf or a non-present SPTE, 4K bits only
 * under 4K tables, W ⊆ present, and that the level counters and page-table page counts match a recount.
 * Returns a list of violations (empty when consistent).
 */
export function checkConsistency(kvm: Kvm): string[] {
  const mmu = kvm.mmu;
  const errors: string[] = [];
  const pages = [0, 0, 0, 0];
  const sp = [0, 0, 0, 0, 1];
  for (let e4 = 0; e4 < mmu.l4.length; e4++) {
    const k4 = mmu.l4[e4]! & 3;
    if (k4 === 2) sp[3]!++;
    if (k4 === 1) errors.push(`level-4 entry ${e4} is a leaf`);
    for (let g = e4 * 512; g < Math.min(mmu.l3.length, e4 * 512 + 512); g++) {
      const k3 = mmu.l3[g]! & 3;
      if (k4 !== 2 && k3 !== 0) errors.push(`1G entry ${g} present under a non-present root entry`);
      if (k3 === 1) pages[3]!++;
      if (k3 === 2) sp[2]!++;
      for (let r = g * 512; r < g * 512 + 512; r++) {
        const k2 = mmu.l2[r]! & 3;
        if (k3 !== 2 && k2 !== 0) errors.push(`2M entry ${r} present under 1G entry ${g} of kind ${k3}`);
        if (k2 === 1) pages[2]!++;
        if (k2 === 2) sp[1]!++;
        const p = mmu.present.chunkCount(r);
        const w = mmu.writable.chunkCount(r);
        if ((k3 !== 2 || k2 !== 2) && (p !== 0 || w !== 0)) errors.push(`4K bits set in region ${r} without a 4K table`);
        if (w > 0) {
          for (let i = r * 512; i < r * 512 + 512; i++) {
            if (mmu.writable.get(i) && !mmu.present.get(i)) {
              errors.push(`gfn ${i} writable but not present`);
              break;
            }
          }
        }
        pages[1]! += p;
      }
    }
  }
  for (let l = 1; l <= 3; l++) if (pages[l] !== mmu.pages[l]) errors.push(`pages[${l}] = ${mmu.pages[l]}, recount ${pages[l]}`);
  for (let l = 1; l <= 4; l++) if (sp[l] !== mmu.spCount[l]) errors.push(`spCount[${l}] = ${mmu.spCount[l]}, recount ${sp[l]}`);
  if (kvm.stats.spAllocated - kvm.stats.spFreed + 1 !== mmu.spTotal) {
    errors.push(`allocated ${kvm.stats.spAllocated} - freed ${kvm.stats.spFreed} + root != ${mmu.spTotal} page-table pages`);
  }
  return errors;
}

/** Level of the leaf mapping each gfn of the VM's memslots (0 = not mapped). */
export function mappingLevels(kvm: Kvm): Uint8Array {
  const out = new Uint8Array(totalPages(kvm));
  for (let i = 0; i < out.length; i++) out[i] = kvm.mmu.mappingLevel(BASE_GFN + i);
  return out;
}

/** Everything observable about a VM, for comparing two that should be identical. */
export function dumpState(kvm: Kvm): Record<string, unknown> {
  const n = totalPages(kvm);
  const bits = (b: { get(i: number): boolean }) => {
    let s = '';
    for (let i = 0; i < n; i++) s += b.get(BASE_GFN + i) ? '1' : '0';
    return s;
  };
  return {
    l4: Array.from(kvm.mmu.l4),
    l3: Array.from(kvm.mmu.l3),
    l2: Array.from(kvm.mmu.l2),
    present: bits(kvm.mmu.present),
    writable: bits(kvm.mmu.writable),
    dirty: bits(kvm.dirtyBitmap),
    pages: [...kvm.mmu.pages],
    sp: [...kvm.mmu.spCount],
    stats: JSON.parse(JSON.stringify(kvm.stats)),
    ioctl: Object.fromEntries(COST_KEYS.map((k, i) => [k, kvm.ioctl.counts[i]])),
    faultLock: Object.fromEntries(COST_KEYS.map((k, i) => [k, kvm.faultLock.counts[i]])),
    vcpus: kvm.vcpus.map((v) => Array.from(v.ledger.counts)),
  };
}
