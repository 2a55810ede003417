import { describe, expect, it } from 'vitest';
import { AggregateMmu } from '../../../../shared/src/kernel/mmu-aggregate/aggregate-mmu.js';
import { resolveKvmHostMmus } from '../../../../shared/src/kernel/host/resolve-kvm-host-mmus.js';
import { CostId } from '../../../../shared/src/kernel/mmu/cost-profile.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { NO_BAILOUTS } from '../../../../shared/src/kernel/mmu/promote-bailout.js';
import { BASE_CASE, runAggregate, runDetailed } from './matrix-driver.js';

/** Dirty logging without eager split, where the matrix found the aggregate off the detailed model. */
describe('aggregate MMU without eager split', () => {
  it('CLEAR write-protects a huge leaf once, not its 4K pages (kvm_arch_mmu_enable_log_dirty_pt_masked: kvm_mmu_slot_gfn_write_protect at PG_LEVEL_2M)', () => {
    for (const kernel of [{ release: '6.12', nxHugePages: false, eagerPageSplit: false }, { release: '5.15', nxHugePages: false }, { release: '6.12', nxHugePages: false, tdpMmu: false }]) {
      for (const backing of ['anonymous_hugetlb_2mb', 'anonymous_hugetlb_1gb'] as const) {
        const c = { ...BASE_CASE, kernel, backing };
        const d = runDetailed(c);
        const a = runAggregate(c);
        expect(Math.abs(a.loggingNs / d.loggingNs - 1), `${JSON.stringify(kernel)} ${backing}: aggregate ${a.loggingNs} ns, detailed ${d.loggingNs} ns`).toBeLessThan(1e-3);
      }
    }
    // 2 GiB of 2M units, one CLEAR of everything, then a second one: each unit's leaf is protected by the first only.
    const pages = 524288;
    const mmu = new AggregateMmu({
      pages,
      vcpus: 2,
      backing: 'anonymous_hugetlb_2mb',
      thpCoverage: 1,
      manualProtect: true,
      kernel: resolveKvmHostMmus({ release: '6.12', nxHugePages: false, eagerPageSplit: false }),
      profile: DEFAULT_PROFILE,
      bailouts: NO_BAILOUTS,
      classes: [{ name: 'all', pages, writeRate: 0, readRate: 0 }],
    });
    mmu.enable(0);
    mmu.clearDirtyLog([pages], [pages / 64], 2, 0);
    expect(mmu.ioctl.counts[CostId.spte_wrprot_ns]).toBeCloseTo(pages / 512, 6);
    mmu.clearDirtyLog([pages], [pages / 64], 2, 0);
    expect(mmu.ioctl.counts[CostId.spte_wrprot_ns]).toBeCloseTo(pages / 512, 6);
  });

  it('writes that map a page after a split by zap and map 4K are logged by their fault, not by PML (make_spte marks the page dirty)', () => {
    for (const kernel of [{ release: '5.15', nxHugePages: false }, { release: '6.12', nxHugePages: false, tdpMmu: false }]) {
      const c = { ...BASE_CASE, kernel };
      const d = runDetailed(c);
      const a = runAggregate(c);
      expect(d.trackedWrites).toBe(0);
      expect(a.trackedWrites, JSON.stringify(kernel)).toBeLessThan(1e-6 * d.notPresentFaults);
      expect(Math.abs(a.notPresentFaults / d.notPresentFaults - 1)).toBeLessThan(0.005);
    }
  });

  it('the write that splits a unit in place is its fault, not a tracked write (tdp_mmu_split_huge_page on the fault path, 6.2+)', () => {
    const c = { ...BASE_CASE, kernel: { release: '6.12', nxHugePages: false, eagerPageSplit: false } };
    const d = runDetailed(c);
    const a = runAggregate(c);
    expect(d.splitOnFault).toBe(2048);
    expect(a.splitOnFault).toBeCloseTo(2048, 6);
    // The aggregate writes its expectation (1 - 1/e of each slice), the detailed model a draw: 0.1 % apart.
    expect(Math.abs(a.trackedWrites / d.trackedWrites - 1)).toBeLessThan(0.001);
  });

  it('a sequential pass maps every page of the units it splits by zap and map 4K (the present share follows the pages written)', () => {
    const c = { ...BASE_CASE, kernel: { release: '6.12', nxHugePages: false, tdpMmu: false }, access: 'sequential' as const };
    const d = runDetailed(c);
    const a = runAggregate(c);
    expect(d.notPresentFaults).toBe(4 * 262144 - 2048);
    expect(a.notPresentFaults).toBeCloseTo(d.notPresentFaults, 3);
    const [dz] = d.disables;
    const [az] = a.disables;
    expect(az!.zapped).toBeCloseTo(dz!.zapped, 3);
  });
});

describe('aggregate MMU over 1 GiB units', () => {
  it('a 1 GiB leaf is split in place one level per fault: one split fault per 2M leaf written (kvm_tdp_mmu_map: tdp_mmu_split_huge_page above the goal level, 6.2+)', () => {
    const c = { ...BASE_CASE, kernel: { release: '6.12', nxHugePages: false, eagerPageSplit: false }, backing: 'anonymous_hugetlb_1gb' as const };
    const d = runDetailed(c);
    const a = runAggregate(c);
    expect(d.splitOnFault).toBe(2048);
    expect(a.splitOnFault).toBeCloseTo(2048, 3);
  });

  it('zap: the first vCPU to touch a frozen 1G SPTE waits at most the flush (tdp_mmu_zap_spte_atomic: REMOVED_SPTE until kvm_flush_remote_tlbs_gfn)', () => {
    const c = { ...BASE_CASE, backing: 'anonymous_hugetlb_1gb' as const };
    const d = runDetailed(c).disables.find((x) => x.strategy === 'zap')!;
    const a = runAggregate(c).disables.find((x) => x.strategy === 'zap')!;
    // Four units, each touched during its flush: four flush waits and four refaults, not lambda F^2 / 2 each (which
    // made the aggregate 5.8 times the detailed model). 25 % remain, not explained yet (docs/model.md).
    expect(Math.abs(a.stallNs / d.stallNs - 1), `aggregate ${a.stallNs} ns, detailed ${d.stallNs} ns`).toBeLessThan(0.3);
  });
});

describe('aggregate MMU: the leaf zap racing running vCPUs (5.13 - 5.18)', () => {
  it('every leaf the walk left is torn down by the vCPU that refaults its unit (handle_removed_pt), also when not every unit is raced', () => {
    // PML off: each page of a pass costs a fast fault too, so vCPUs touch memory slower and about 1 unit in 9 is
    // not raced (its walk zaps every leaf).
    const c = { ...BASE_CASE, kernel: { release: '6.12', nxHugePages: false, pml: false } };
    const d = runDetailed(c).disables.find((x) => x.strategy === 'zap-leaf')!;
    const a = runAggregate(c).disables.find((x) => x.strategy === 'zap-leaf')!;
    expect(Math.abs(a.torndown / d.torndown - 1), `aggregate ${a.torndown}, detailed ${d.torndown}`).toBeLessThan(0.02);
    expect(Math.abs(a.stallNs / d.stallNs - 1), `aggregate ${a.stallNs} ns, detailed ${d.stallNs} ns`).toBeLessThan(0.02);
  });
});
