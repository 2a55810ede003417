import { describe, expect, it } from 'vitest';
import { KernelSettingsInvalid } from '../../../../shared/src/kernel/host/errors/kernel-settings-invalid.js';
import { RELEASE_CHANGES } from '../../../../shared/src/kernel/host/release-changes.js';
import { resolveKvmHost } from '../../../../shared/src/kernel/host/resolve-kvm-host.js';
import { resolveKvmHostMmus } from '../../../../shared/src/kernel/host/resolve-kvm-host-mmus.js';

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof KernelSettingsInvalid) return e.issues.map((i) => i.field);
    throw e;
  }
  return [];
};

describe('kernel releases as data (x86 KVM behaviours keyed by release, checked in the kernel trees)', () => {
  it('5.10: the shadow MMU by default (TDP MMU opt-in), rmap zap of 4K SPTEs, no eager split; NX adjust below any non-leaf', () => {
    const h = resolveKvmHost({ release: '5.10' });
    expect(h).toMatchObject({ tdpMmu: false, strategy: 'rmap-zap', eagerPageSplit: false, fastPageFault: true, rmapZapMaxLevel: 1, nxAdjust: 'any-nonleaf', nxHugePages: true });
    // Opting into the TDP MMU on 5.10: leaf zaps with a batched flush, no TDP fast page fault.
    expect(resolveKvmHost({ release: '5.10', tdpMmu: true })).toMatchObject({ strategy: 'zap-leaf', zapLeafFlush: 'batched', fastPageFault: false });
  });

  it('5.15 on the seed\'s Skylake: TDP MMU (71ba3f3189c7), zap-leaf with a flush per leaf, fast page fault, no eager split yet, NX on', () => {
    const h = resolveKvmHost({ release: '5.15', cpu: 'skylake' });
    expect(h).toMatchObject({ tdpMmu: true, strategy: 'zap-leaf', zapLeafFlush: 'per-leaf', fastPageFault: true, eagerPageSplit: false, nxHugePages: true, nxAdjust: 'any-nonleaf', splitOnFault: 'zap-map-4k' });
    expect(h.provenance.tdpMmu).toContain('71ba3f3189c7');
  });

  it('5.19 zaps non-leaf SPTEs (5ba7c4c6d1c7) but still walks leaves; 6.0 stops at 2M (85f44f8cc07b)', () => {
    expect(resolveKvmHost({ release: '5.19' })).toMatchObject({ strategy: 'zap', zapWalksLeaves: true, eagerPageSplit: true });
    expect(resolveKvmHost({ release: '6.1' })).toMatchObject({ strategy: 'zap', zapWalksLeaves: false, rmapZapMaxLevel: 2, nxAdjust: 'any-nonleaf' });
  });

  it('6.2 fixes the NX adjust (76901e56fb51) and splits in place on fault (c4b33d28ea51); 6.13 recovers huge pages in place (13e2e4f62a4b)', () => {
    expect(resolveKvmHost({ release: '6.2' })).toMatchObject({ nxAdjust: 'nx-child-only', splitOnFault: 'in-place', nxRecoverySkipsLogged: true });
    expect(resolveKvmHost({ release: '6.12' }).strategy).toBe('zap');
    expect(resolveKvmHost({ release: '6.13' }).strategy).toBe('promote');
    expect(resolveKvmHost({ release: '6.13' }).provenance.strategy).toContain('13e2e4f62a4b');
  });

  it('zap-batched is a counterfactual: 35ef80eb29ab and 13e2e4f62a4b shipped together in 6.13, so no release disables with batched zapping alone', () => {
    for (let minor = 10; minor <= 19; minor++) {
      for (const tdpMmu of [true, false]) expect(resolveKvmHost({ release: `5.${minor}`, tdpMmu }).strategy).not.toBe('zap-batched');
    }
    for (let minor = 0; minor <= 19; minor++) {
      for (const tdpMmu of [true, false]) expect(resolveKvmHost({ release: `6.${minor}`, tdpMmu }).strategy).not.toBe('zap-batched');
    }
    expect(RELEASE_CHANGES.tdpDisable.map((c) => c.value)).not.toContain('zap-batched');
  });

  it('beside the host in effect, the same kernel with the other MMU: overrides kept, the disable path left to each MMU', () => {
    const m = resolveKvmHostMmus({ release: '6.6', tdpMmu: false, nxHugePages: false });
    expect(m.inEffect).toBe(m.shadow);
    expect(m.shadow).toMatchObject({ tdpMmu: false, strategy: 'rmap-zap', eagerPageSplit: false, nxHugePages: false });
    expect(m.tdp).toMatchObject({ tdpMmu: true, strategy: 'zap', eagerPageSplit: true, nxHugePages: false });
    const t = resolveKvmHostMmus({ release: '5.15', strategy: 'promote' });
    expect(t.inEffect).toBe(t.tdp);
    expect(t.tdp.strategy).toBe('promote');
    expect(t.shadow.strategy).toBe('rmap-zap');
  });

  it('the CPU decides nx_huge_pages=auto and PML: AMD has neither', () => {
    expect(resolveKvmHost({ cpu: 'epyc' })).toMatchObject({ nxHugePages: false, pml: false });
    expect(resolveKvmHost({ cpu: 'icelake' })).toMatchObject({ nxHugePages: false, pml: true });
  });

  it('refuses what no kernel has, naming the field', () => {
    expect(issuesOf(() => resolveKvmHost({ release: '4.19' }))).toEqual(['release']);
    expect(issuesOf(() => resolveKvmHost({ release: 'latest' }))).toEqual(['release']);
    expect(issuesOf(() => resolveKvmHost({ cpu: 'epyc', pml: true }))).toEqual(['pml']);
    expect(issuesOf(() => resolveKvmHost({ release: '5.15', eagerPageSplit: true }))).toEqual(['eager_page_split']);
    expect(issuesOf(() => resolveKvmHost({ release: '6.6', tdpMmu: false, strategy: 'promote' }))).toEqual(['strategy']);
    expect(issuesOf(() => resolveKvmHost({ release: '6.6', strategy: 'rmap-zap' }))).toEqual(['strategy']);
  });

  it('overrides are taken and said to be given', () => {
    const h = resolveKvmHost({ release: '6.6', nxHugePages: false, strategy: 'zap-batched' });
    expect(h).toMatchObject({ nxHugePages: false, strategy: 'zap-batched' });
    expect(h.provenance.strategy).toBe('given');
  });
});
