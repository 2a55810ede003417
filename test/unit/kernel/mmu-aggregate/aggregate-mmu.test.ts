import { describe, expect, it } from 'vitest';
import { AggregateMmu } from '../../../../shared/src/kernel/mmu-aggregate/aggregate-mmu.js';
import type { BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { DISABLE_STRATEGIES } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
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
    eagerPageSplit: true,
    pml: true,
    fastPageFault: true,
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
