import { describe, expect, it } from 'vitest';
import { AggregateMmu } from '../../../../shared/src/kernel/mmu-aggregate/aggregate-mmu.js';
import type { BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { TDP_MMU_STRATEGIES as DISABLE_STRATEGIES } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import { resolveKvmHostMmus } from '../../../../shared/src/kernel/host/resolve-kvm-host-mmus.js';
import type { KvmHostSpec } from '../../../../shared/src/kernel/host/kvm-host.js';
import { remoteTlbFlushNs } from '../../../../shared/src/kernel/mmu/remote-tlb-flush.js';
import { guestAccessSequential } from '../../../../shared/src/kernel/mmu/guest-access-sequential.js';
import { NO_BAILOUTS } from '../../../../shared/src/kernel/mmu/promote-bailout.js';
import { WRITE_ALL } from '../../../../shared/src/kernel/mmu/write-decider.js';
import { pageClasses } from '../../../../shared/src/migration/workload/page-classes.js';
import { workloadSpecSchema, type WorkloadSpec } from '../../../../shared/src/migration/workload/workload-spec.js';
import { BASE_GFN, makeKvm } from '../../../helpers/mmu-fixtures.js';
import { parseDirtyLogPerfArgs } from '../../../../shared/src/cli/dirty-log-perf-command.js';
import { runDirtyLogPerf } from '../../../../shared/src/kernel/selftest/dirty-log-perf.js';

/** The detailed model: populate, enable (initially set), CLEAR everything (eager split), disable with idle vCPUs. */
function detailed(backing: BackingSource, pages: number, vcpus: number) {
  return DISABLE_STRATEGIES.map((strategy) => {
    const kvm = makeKvm({ backing, slotPages: [pages], nrVcpus: vcpus, manualProtect: true, eagerPageSplit: true, pml: true, fastPageFault: true, thpCoverage: 1, seed: 1 });
    guestAccessSequential(kvm, kvm.vcpus[0]!, BASE_GFN, BASE_GFN + pages, WRITE_ALL);
    const slot = kvm.memslots[0]!;
    const t0 = kvm.ioctl.ns;
    kvmEnableDirtyLogging(kvm, slot);
    kvmClearDirtyLog(kvm, slot, 0, slot.npages);
    const loggingNs = kvm.ioctl.ns - t0;
    const before = kvm.ioctl.ns;
    const stats = kvm.stats.clone();
    kvmDisableDirtyLogging(kvm, slot, { strategy });
    return { strategy, ns: kvm.ioctl.ns - before, stats: kvm.stats.since(stats), loggingNs };
  });
}

/** The aggregate model after enable (initially set) and CLEAR of everything (eager split), `running` vCPUs in guest mode. */
function fullyCleared(backing: BackingSource, pages: number, vcpus: number, workload: WorkloadSpec, running: number): AggregateMmu {
  const mmu = new AggregateMmu({
    pages,
    vcpus,
    backing,
    thpCoverage: 1,
    manualProtect: true,
    kernel: resolveKvmHostMmus({ release: '6.12', nxHugePages: false }),
    profile: DEFAULT_PROFILE,
    bailouts: NO_BAILOUTS,
    classes: pageClasses(workload, pages, vcpus),
  });
  mmu.enable(running);
  mmu.clearDirtyLog([pages], [pages / 64], Math.ceil(pages / 262144), running);
  return mmu;
}

function aggregate(backing: BackingSource, pages: number, vcpus: number) {
  const mmu = fullyCleared(backing, pages, vcpus, workloadSpecSchema.parse({ kind: 'idle' }), 0);
  const loggingNs = mmu.ioctl.ns;
  return DISABLE_STRATEGIES.map((strategy) => ({ ...mmu.evaluateDisable(strategy, 0, 1), loggingNs }));
}

describe('aggregate MMU against the detailed model', () => {
  for (const [backing, pages, vcpus] of [
    ['anonymous_hugetlb_2mb', 8 * 262144, 8],
    ['anonymous_hugetlb_1gb', 4 * 262144, 16],
    ['anonymous', 2 * 262144, 4],
  ] as const) {
    it(`disable with idle vCPUs: same time and counters (${backing}, ${pages / 262144} GiB)`, () => {
      const d = detailed(backing, pages, vcpus);
      const a = aggregate(backing, pages, vcpus);
      for (let i = 0; i < d.length; i++) {
        const x = d[i]!;
        const y = a[i]!;
        expect(y.strategy).toBe(x.strategy);
        expect(y.ioctlNs / x.ns, `${x.strategy} disable time`).toBeCloseTo(1, 3);
        expect(y.stats.tlbFlushes, `${x.strategy} flushes`).toBe(x.stats.tlbFlushes);
        expect(y.stats.sptesZapped, `${x.strategy} zapped`).toBe(x.stats.sptesZapped);
        expect(y.stats.hugePagesPromoted, `${x.strategy} promoted`).toBe(x.stats.hugePagesPromoted);
        expect(y.stats.childSptesTornDown, `${x.strategy} children`).toBe(x.stats.childSptesTornDown);
        // Enable plus one CLEAR of everything (which splits every huge page) costs the same too.
        expect(y.loggingNs / x.loggingNs, 'enable + CLEAR time').toBeCloseTo(1, 3);
      }
    });
  }
});

/**
 * Running vCPUs: the detailed model runs dirty_log_perf_test with random access (-a) and vCPUs running during the
 * disable (-e); the aggregate model gets one uniform class touched at the same per-page rate (a random walk over a
 * vCPU's slice, one page per guest_access_4k_ns). The aggregate's touches are Poisson, like -a's; the races with
 * the walk (zap-leaf's refault of a half-zapped table, zap's frozen SPTEs) are drawn per region in one model and
 * in closed form in the other, so they agree statistically.
 */
describe('aggregate MMU against the detailed model, vCPUs running (random access)', () => {
  const within = (got: number, want: number, rel: number, abs = 0) => Math.abs(got - want) <= Math.max(abs, rel * Math.abs(want));
  for (const [vcpus, gib, backing] of [
    [8, 1, 'anonymous_hugetlb_2mb'],
    [16, 1, 'anonymous_hugetlb_2mb'],
    [8, 8, 'anonymous_hugetlb_1gb'],
  ] as const) {
    it(`${vcpus} vCPUs x ${gib} GiB ${backing}: disable time, flushes, refaults and stall agree`, () => {
      const d = runDirtyLogPerf(parseDirtyLogPerfArgs(`-v ${vcpus} -b ${gib}G -s ${backing} -e -a`.split(' ')));
      const pages = vcpus * gib * 262144;
      const perPageRate = 1e9 / (gib * 262144 * DEFAULT_PROFILE.costs.guest_access_4k_ns);
      const uniform = workloadSpecSchema.parse({ kind: 'uniform', dirty_rate_bytes_per_s: perPageRate * 4096 * pages, working_set: 1, read_share: 0 });
      const mmu = fullyCleared(backing, pages, vcpus, uniform, vcpus);
      for (const run of d.strategies) {
        // zap-leaf over 1 GiB pages races once per 1G unit (64 here), so its sums vary more than per-2M races do.
        const rel = run.strategy === 'zap-leaf' && backing === 'anonymous_hugetlb_1gb' ? 0.05 : 0.02;
        const a = mmu.evaluateDisable(run.strategy, vcpus, 1);
        const ds = run.disableStats;
        const what = `${run.strategy}: detailed ${run.disable.ns} ns ${ds.tlbFlushes} flushes ${ds.faults.refault} refaults ${ds.vcpuStallNs} ns stall; aggregate ${a.ioctlNs} ns ${a.stats.tlbFlushes} flushes ${a.refaultsDuringDisable} refaults ${a.vcpuStallNs} ns stall`;
        expect(within(a.ioctlNs, run.disable.ns, rel), what).toBe(true);
        // Batched strategies flush at yields: a couple more or fewer where the walks' yields fall differently.
        expect(within(a.stats.tlbFlushes, ds.tlbFlushes, rel, 2), what).toBe(true);
        expect(within(a.refaultsDuringDisable, ds.faults.refault, 0.01, 1), what).toBe(true);
        // Stalls are sums of per-region random waits: compared where there are enough regions to average over.
        if (ds.faults.refault >= 1000) expect(within(a.vcpuStallNs, ds.vcpuStallNs, 0.1), what).toBe(true);
      }
    }, 60_000);
  }
});

/**
 * The aggregate model after enable (initially set), a CLEAR of everything and one random pass over memory with
 * writes only (`touchesPerPage` touches per page on average), on `spec`'s kernel: without eager split each huge unit
 * is split by its first write and its other pages fault in as they are touched, as `dirty-log-perf -a` iteration 2
 * does on the detailed model.
 */
function afterRandomPass(spec: KvmHostSpec, backing: BackingSource, vcpus: number, gib: number, touchesPerPage: number): AggregateMmu {
  const pages = vcpus * gib * 262144;
  const perPageRate = 1e9 / (gib * 262144 * DEFAULT_PROFILE.costs.guest_access_4k_ns);
  const mmu = new AggregateMmu({
    pages,
    vcpus,
    backing,
    thpCoverage: 1,
    manualProtect: true,
    kernel: resolveKvmHostMmus(spec),
    profile: DEFAULT_PROFILE,
    bailouts: NO_BAILOUTS,
    classes: pageClasses(workloadSpecSchema.parse({ kind: 'uniform', dirty_rate_bytes_per_s: perPageRate * 4096 * pages, working_set: 1, read_share: 0 }), pages, vcpus),
  });
  mmu.enable(vcpus);
  mmu.clearDirtyLog([pages], [pages / 64], Math.ceil(pages / 262144), vcpus);
  mmu.guestWrites([pages * -Math.expm1(-touchesPerPage)], touchesPerPage / perPageRate);
  return mmu;
}

describe('aggregate MMU against the detailed model: the shadow MMU, the 5.10 - 5.12 leaf zap and NX huge pages', () => {
  const within = (got: number, want: number, rel: number, abs = 0) => Math.abs(got - want) <= Math.max(abs, rel * Math.abs(want));

  for (const backing of ['anonymous_hugetlb_2mb', 'anonymous_hugetlb_1gb'] as const) {
    it(`shadow MMU, idle vCPUs (${backing}, 5.10): rmap zap time, zaps and flushes agree within 0.1 %`, () => {
      const d = runDirtyLogPerf(parseDirtyLogPerfArgs(`-v 8 -b 1G -s ${backing} --kernel 5.10 -a`.split(' ')));
      const z = d.strategies[0]!;
      expect(z.strategy).toBe('rmap-zap');
      const a = afterRandomPass({ release: '5.10' }, backing, 8, 1, 1).evaluateDisable('rmap-zap', 0, 1);
      const what = `detailed ${z.disable.ns} ns ${z.disableStats.sptesZapped} zapped ${z.disableStats.tlbFlushes} flushes; aggregate ${a.ioctlNs} ns ${a.stats.sptesZapped} zapped ${a.stats.tlbFlushes} flushes`;
      expect(within(a.ioctlNs, z.disable.ns, 0.001), what).toBe(true);
      expect(within(a.stats.sptesZapped, z.disableStats.sptesZapped, 0.001), what).toBe(true);
      expect(a.stats.tlbFlushes, what).toBe(z.disableStats.tlbFlushes);
      // NX on (Skylake, 5.10): what the walk zapped never comes back huge.
      expect(a.hugeCoverageRestoredS).toBeNull();
    }, 60_000);
  }

  /**
   * With vCPUs running, a write-locked walk blocks each vCPU from its first touch of zapped memory to the next yield,
   * one refault per yield. memstress vCPUs own slices the gfn-order walk reaches one after another, so they are
   * blocked later than the aggregate's vCPUs, which touch all of memory: refaults during the walk within a factor 2,
   * the vCPUs' loss during the walk within a factor 2.5. Disable time, zaps and the walk's own flushes agree within
   * 1 %.
   */
  for (const nx of ['on', 'off'] as const) {
    it(`shadow MMU, vCPUs running (random access, 5.10, NX ${nx}): the walk agrees; vCPUs blocked on mmu_lock within the stated bounds`, () => {
      const d = runDirtyLogPerf(parseDirtyLogPerfArgs(`-v 8 -b 1G -s anonymous_hugetlb_2mb --kernel 5.10 -e -a --nx-huge-pages ${nx}`.split(' ')));
      const z = d.strategies[0]!;
      const ds = z.disableStats;
      const a = afterRandomPass({ release: '5.10', nxHugePages: nx === 'on' }, 'anonymous_hugetlb_2mb', 8, 1, 1).evaluateDisable('rmap-zap', 8, 1);
      // The aggregate also counts the refaults that come after the walk (each, without NX, replacing a table with a flush).
      const after = a.stats.faults.refault - a.refaultsDuringDisable;
      const perLater = DEFAULT_PROFILE.costs.fault_not_present_ns + (nx === 'off' ? 512 * DEFAULT_PROFILE.costs.child_spte_teardown_nonpresent_ns + DEFAULT_PROFILE.costs.sp_free_ns + remoteTlbFlushNs(DEFAULT_PROFILE.costs, 8, 8) : 0);
      const walkFlushes = a.stats.tlbFlushes - (nx === 'off' ? a.stats.faults.refault : 0);
      const dWalkFlushes = ds.tlbFlushes - (nx === 'off' ? ds.faults.refault : 0);
      const what = `detailed ${z.disable.ns} ns ${dWalkFlushes} walk flushes ${ds.faults.refault} refaults ${ds.vcpuStallNs} ns stall; aggregate ${a.ioctlNs} ns ${walkFlushes} walk flushes ${a.refaultsDuringDisable} refaults during ${a.vcpuStallNs - after * perLater} ns stall during`;
      expect(within(a.ioctlNs, z.disable.ns, 0.01), what).toBe(true);
      expect(within(a.stats.sptesZapped, ds.sptesZapped, 0.01), what).toBe(true);
      expect(walkFlushes, what).toBe(dWalkFlushes);
      expect(a.refaultsDuringDisable / ds.faults.refault, what).toBeGreaterThan(1 / 2);
      expect(a.refaultsDuringDisable / ds.faults.refault, what).toBeLessThan(2);
      const stallDuring = a.vcpuStallNs - after * perLater;
      expect(stallDuring / ds.vcpuStallNs, what).toBeGreaterThan(1 / 2.5);
      expect(stallDuring / ds.vcpuStallNs, what).toBeLessThan(2.5);
    }, 60_000);
  }

  for (const backing of ['anonymous_hugetlb_2mb', 'anonymous_hugetlb_1gb'] as const) {
    it(`NX zap-leaf, vCPUs running (random access, 5.15 on Skylake, ${backing}): no race; time, flushes, 4K refaults and stall within 1 %`, () => {
      const d = runDirtyLogPerf(parseDirtyLogPerfArgs(`-v 8 -b 1G -s ${backing} --kernel 5.15 -e -a --strategy zap-leaf`.split(' ')));
      const z = d.strategies[0]!;
      const ds = z.disableStats;
      const a = afterRandomPass({ release: '5.15' }, backing, 8, 1, 1).evaluateDisable('zap-leaf', 8, 1);
      const what = `detailed ${z.disable.ns} ns ${ds.tlbFlushes} flushes ${ds.faults.refault} refaults ${ds.vcpuStallNs} ns stall; aggregate ${a.ioctlNs} ns ${a.stats.tlbFlushes} flushes ${a.refaultsDuringDisable} refaults ${a.vcpuStallNs} ns stall`;
      expect(within(a.ioctlNs, z.disable.ns, 0.01), what).toBe(true);
      expect(within(a.stats.tlbFlushes, ds.tlbFlushes, 0.01), what).toBe(true);
      expect(within(a.refaultsDuringDisable, ds.faults.refault, 0.01), what).toBe(true);
      expect(within(a.vcpuStallNs, ds.vcpuStallNs, 0.01), what).toBe(true);
      expect(z.pagesByLevel[2] + z.pagesByLevel[1]).toBe(0);
      expect(a.hugeCoverageRestoredS).toBeNull();
    }, 60_000);
  }

  it('the 5.10 - 5.12 leaf zap, idle vCPUs: batched flushes (one per yield and one at the end) agree exactly', () => {
    const d = runDirtyLogPerf(parseDirtyLogPerfArgs('-v 8 -b 1G -s anonymous_hugetlb_2mb --kernel 5.12 --tdp-mmu on -a --strategy zap-leaf'.split(' ')));
    const z = d.strategies[0]!;
    const a = afterRandomPass({ release: '5.12', tdpMmu: true }, 'anonymous_hugetlb_2mb', 8, 1, 1).evaluateDisable('zap-leaf', 0, 1);
    expect(a.ioctlNs / z.disable.ns).toBeCloseTo(1, 2);
    expect(a.stats.tlbFlushes).toBe(z.disableStats.tlbFlushes);
  }, 60_000);
});
