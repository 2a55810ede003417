import { describe, expect, it } from 'vitest';
import { AggregateMmu } from '../../../../shared/src/kernel/mmu-aggregate/aggregate-mmu.js';
import type { BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { TDP_MMU_STRATEGIES as DISABLE_STRATEGIES } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import { resolveKvmHostMmus } from '../../../../shared/src/kernel/host/resolve-kvm-host-mmus.js';
import { guestAccessSequential } from '../../../../shared/src/kernel/mmu/guest-access-sequential.js';
import { NO_BAILOUTS } from '../../../../shared/src/kernel/mmu/promote-bailout.js';
import type { VcpuActivity } from '../../../../shared/src/kernel/mmu/vcpu-activity.js';
import { WRITE_ALL } from '../../../../shared/src/kernel/mmu/write-decider.js';
import { BASE_GFN, makeKvm } from '../../../helpers/mmu-fixtures.js';

/** vCPUs in guest mode that touch no guest memory during the disable: they only take the flush IPIs. */
function inGuestOnly(running: number): VcpuActivity {
  return { running, revisitNs: Infinity, firstTouch: () => false, firstTouchOfZappedPrefix: () => false };
}

interface Case {
  readonly backing: BackingSource;
  readonly pages: number;
  readonly vcpus: number;
  /** Pages the guest touched before logging starts (from the start of memory). */
  readonly touched: number;
  /** vCPUs in guest mode during the disable. */
  readonly running: number;
  /** Pages written while logging, after the touched ones (each faulted in at 4K). */
  readonly writtenWhileLogging: number;
}

/** The detailed model: touch `touched` pages, enable (initially set), CLEAR all, write the next pages, disable. */
function detailed(c: Case) {
  return DISABLE_STRATEGIES.map((strategy) => {
    const kvm = makeKvm({ backing: c.backing, slotPages: [c.pages], nrVcpus: c.vcpus, manualProtect: true, eagerPageSplit: true, pml: true, fastPageFault: true, thpCoverage: 1, seed: 1 });
    const vcpu = kvm.vcpus[0]!;
    guestAccessSequential(kvm, vcpu, BASE_GFN, BASE_GFN + c.touched, WRITE_ALL);
    const slot = kvm.memslots[0]!;
    const t0 = kvm.ioctl.ns;
    kvmEnableDirtyLogging(kvm, slot);
    kvmClearDirtyLog(kvm, slot, 0, slot.npages);
    const loggingNs = kvm.ioctl.ns - t0;
    const faults0 = kvm.stats.faults.not_present;
    guestAccessSequential(kvm, vcpu, BASE_GFN + c.touched, BASE_GFN + c.touched + c.writtenWhileLogging, WRITE_ALL);
    const faultedIn = kvm.stats.faults.not_present - faults0;
    const before = kvm.ioctl.ns;
    const stats = kvm.stats.clone();
    kvmDisableDirtyLogging(kvm, slot, { strategy, activity: inGuestOnly(c.running) });
    return { strategy, ns: kvm.ioctl.ns - before, stats: kvm.stats.since(stats), loggingNs, faultedIn };
  });
}

/**
 * The aggregate model of the same: one class of all pages with the touched share mapped, the writes while logging
 * as `written` pages of the class. Over one class the writes fall on unmapped pages in proportion, so the written
 * range is the whole untouched rest (each of its pages written once).
 */
function aggregate(c: Case) {
  const mmu = new AggregateMmu({
    pages: c.pages,
    vcpus: c.vcpus,
    backing: c.backing,
    thpCoverage: 1,
    manualProtect: true,
    // The detailed model's test behaviours: a TDP MMU with eager split, PML and fast page fault, NX off (6.12).
    kernel: resolveKvmHostMmus({ release: '6.12', nxHugePages: false }),
    profile: DEFAULT_PROFILE,
    bailouts: NO_BAILOUTS,
    classes: [{ name: 'all', pages: c.pages, writeRate: 0, readRate: 0, mapped: c.touched / c.pages }],
  });
  mmu.enable(0);
  mmu.clearDirtyLog([c.pages], [c.pages / 64], Math.ceil(c.pages / 262144), 0);
  const loggingNs = mmu.ioctl.ns;
  const faults0 = mmu.stats.faults.not_present;
  if (c.writtenWhileLogging > 0) mmu.guestWrites([c.pages], 1);
  const faultedIn = mmu.stats.faults.not_present - faults0;
  return DISABLE_STRATEGIES.map((strategy) => ({ ...mmu.evaluateDisable(strategy, c.running, 1), loggingNs, faultedIn }));
}

/** Item 7 of issue 10, the QEMU side's share: the aggregate against the detailed model for touched < 1 and partial activity. */
describe('aggregate MMU against the detailed model: touched memory and partial vCPU activity', () => {
  const GiB = 262144;
  const cases: (Case & { readonly what: string })[] = [
    { what: 'half of a 2M-backed VM touched, vCPUs idle', backing: 'anonymous_hugetlb_2mb', pages: 8 * GiB, vcpus: 8, touched: 4 * GiB, running: 0, writtenWhileLogging: 0 },
    { what: 'a quarter of a 1G-backed VM touched, vCPUs idle', backing: 'anonymous_hugetlb_1gb', pages: 8 * GiB, vcpus: 16, touched: 2 * GiB, running: 0, writtenWhileLogging: 0 },
    { what: '4K-backed, 3/4 touched, vCPUs idle', backing: 'anonymous', pages: 2 * GiB, vcpus: 4, touched: 1.5 * GiB, running: 0, writtenWhileLogging: 0 },
    { what: 'everything touched, 5 of 20 vCPUs in guest mode', backing: 'anonymous_hugetlb_2mb', pages: 4 * GiB, vcpus: 20, touched: 4 * GiB, running: 5, writtenWhileLogging: 0 },
    { what: 'half touched, 3 of 12 vCPUs in guest mode', backing: 'anonymous_hugetlb_2mb', pages: 4 * GiB, vcpus: 12, touched: 2 * GiB, running: 3, writtenWhileLogging: 0 },
    { what: 'half touched, the rest written while logging (faulted in at 4K)', backing: 'anonymous_hugetlb_2mb', pages: 4 * GiB, vcpus: 8, touched: 2 * GiB, running: 0, writtenWhileLogging: 2 * GiB },
  ];
  for (const c of cases) {
    it(`${c.what}: enable + CLEAR and disable time within 0.1 %, counters exact`, () => {
      const d = detailed(c);
      const a = aggregate(c);
      for (let i = 0; i < d.length; i++) {
        const x = d[i]!;
        const y = a[i]!;
        const what = `${x.strategy}: detailed ${x.ns} ns ${x.stats.tlbFlushes} flushes ${x.stats.sptesZapped} zapped; aggregate ${y.ioctlNs} ns ${y.stats.tlbFlushes} flushes ${y.stats.sptesZapped} zapped`;
        expect(Math.abs(y.loggingNs / x.loggingNs - 1), `enable + CLEAR, ${what}`).toBeLessThan(1e-3);
        expect(y.faultedIn, `faulted in while logging, ${what}`).toBeCloseTo(x.faultedIn, 6);
        expect(Math.abs(y.ioctlNs / x.ns - 1), `disable time, ${what}`).toBeLessThan(1e-3);
        expect(y.stats.tlbFlushes, `flushes, ${what}`).toBeCloseTo(x.stats.tlbFlushes, 6);
        expect(y.stats.sptesZapped, `zapped, ${what}`).toBeCloseTo(x.stats.sptesZapped, 6);
        expect(y.stats.hugePagesPromoted, `promoted, ${what}`).toBeCloseTo(x.stats.hugePagesPromoted, 6);
        expect(y.stats.childSptesTornDown, `children, ${what}`).toBeCloseTo(x.stats.childSptesTornDown, 6);
      }
    });
  }
});
