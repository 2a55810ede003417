import { AggregateMmu } from '../../../../shared/src/kernel/mmu-aggregate/aggregate-mmu.js';
import type { PageClass } from '../../../../shared/src/kernel/mmu-aggregate/page-class.js';
import type { KvmHostSpec } from '../../../../shared/src/kernel/host/kvm-host.js';
import { mmuBehavioursOf } from '../../../../shared/src/kernel/host/mmu-behaviours-of.js';
import { resolveKvmHost } from '../../../../shared/src/kernel/host/resolve-kvm-host.js';
import { resolveKvmHostMmus } from '../../../../shared/src/kernel/host/resolve-kvm-host-mmus.js';
import { backingPageLevel, type BackingSource } from '../../../../shared/src/kernel/mmu/backing-source.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { kvmClearDirtyLog, kvmDisableDirtyLogging, kvmEnableDirtyLogging } from '../../../../shared/src/kernel/mmu/dirty-log.js';
import { strategiesOfMmu, type DisableStrategy } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import { guestAccessSequential } from '../../../../shared/src/kernel/mmu/guest-access-sequential.js';
import type { Kvm } from '../../../../shared/src/kernel/mmu/kvm.js';
import { SPTE_ENT_PER_PAGE, type Gfn } from '../../../../shared/src/kernel/mmu/pg-level.js';
import { nxForcesSmall } from '../../../../shared/src/kernel/mmu/mmu-behaviours.js';
import { remoteTlbFlushNs } from '../../../../shared/src/kernel/mmu/remote-tlb-flush.js';
import { unitTables } from '../../../../shared/src/kernel/mmu-aggregate/unit-tables.js';
import { NO_BAILOUTS, type BailoutLikelihoods } from '../../../../shared/src/kernel/mmu/promote-bailout.js';
import type { Touch, VcpuActivity } from '../../../../shared/src/kernel/mmu/vcpu-activity.js';
import { WRITE_ALL } from '../../../../shared/src/kernel/mmu/write-decider.js';
import { MemstressActivity, MemstressVm } from '../../../../shared/src/kernel/selftest/memstress.js';
import { Rng } from '../../../../shared/src/engine/rng.js';

/**
 * One cell of the aggregate-vs-detailed matrix: a memstress-shaped VM (each vCPU owns a contiguous slice), the host's
 * kernel, and what the guest does. The detailed model (`../mmu`) and the aggregate one (`../mmu-aggregate`) are driven
 * through the same scenario: populate the touched share, enable logging (manual protect + initially set), CLEAR the
 * whole slot (at once or in 1 GiB chunks in address order, as QEMU does), one write pass by the active vCPUs, then
 * disable under each of the MMU's strategies from that same state, the active vCPUs running during the disable.
 */
export interface MatrixCase {
  readonly kernel: KvmHostSpec;
  readonly backing: BackingSource;
  readonly vcpus: number;
  /** Guest memory per vCPU, 4K pages. */
  readonly pagesPerVcpu: number;
  readonly access: 'sequential' | 'random';
  /** vCPUs doing the write pass and in guest mode during the disable (the first `active`); the rest are halted. */
  readonly active: number;
  /** Fraction of each vCPU's slice the guest touched before logging (a prefix of whole huge units); the rest is unmapped. */
  readonly touched: number;
  /** CLEAR_DIRTY_LOG in 1 GiB chunks in address order (QEMU's `x-clear-bitmap-shift` 18) instead of one call. */
  readonly chunkedClear: boolean;
  readonly bailouts: BailoutLikelihoods;
}

export const BASE_CASE: MatrixCase = {
  kernel: { release: '6.12', nxHugePages: false },
  backing: 'anonymous_hugetlb_2mb',
  vcpus: 4,
  pagesPerVcpu: 262144,
  access: 'random',
  active: 4,
  touched: 1,
  chunkedClear: false,
  bailouts: NO_BAILOUTS,
};

/** What both models report, per phase. */
export interface Observed {
  /** Enable + CLEAR on the ioctl thread, ns; remote TLB flushes and huge pages split in them. */
  readonly loggingNs: number;
  readonly loggingFlushes: number;
  readonly loggingSplits: number;
  /** The write pass: faults by kind (not-present, split on fault), PML-logged writes and fast faults. */
  readonly notPresentFaults: number;
  readonly splitOnFault: number;
  readonly trackedWrites: number;
  readonly disables: readonly ObservedDisable[];
}

export interface ObservedDisable {
  readonly strategy: DisableStrategy;
  readonly ns: number;
  readonly flushes: number;
  readonly zapped: number;
  readonly torndown: number;
  readonly promoted: number;
  readonly bailouts: number;
  /** Zapped regions refaulted while the walk ran. */
  readonly refaultsDuring: number;
  /** vCPU time lost to the disable (flush IPIs, the race, refaults), ns; only while the walk ran for the detailed model. */
  readonly stallNs: number;
}

/** Time per page of a vCPU's pass once logging is off (PML off: each still-protected page takes one fast fault). */
function nsPerPage(kvm: { pml: boolean; fastPageFault: boolean }): number {
  const c = DEFAULT_PROFILE.costs;
  return c.guest_access_4k_ns + (kvm.pml ? 0 : kvm.fastPageFault ? c.fault_fast_ns : c.fault_slow_wp_ns);
}

/** Memstress vCPUs, of which only the first `running` are in guest mode (the rest are halted and never touch memory). */
class PartialActivity implements VcpuActivity {
  readonly revisitNs: number;
  constructor(
    private readonly inner: MemstressActivity,
    readonly running: number,
  ) {
    this.revisitNs = inner.revisitNs;
  }
  firstTouch(gfn: Gfn, npages: number, tNs: number, out: Touch): boolean {
    return this.inner.firstTouch(gfn, npages, tNs, out) && out.vcpuIdx < this.running;
  }
  firstTouchOfZappedPrefix(gfn: Gfn, npages: number, tNs: number, zapNs: number, out: Touch): boolean {
    return this.inner.firstTouchOfZappedPrefix(gfn, npages, tNs, zapNs, out) && out.vcpuIdx < this.running;
  }
}

function clearAll(kvm: Kvm, chunked: boolean): void {
  for (const slot of kvm.memslots) {
    const step = chunked ? 262144 : slot.npages;
    for (let first = 0; first < slot.npages; first += step) kvmClearDirtyLog(kvm, slot, first, Math.min(step, slot.npages - first));
  }
}

export function runDetailed(c: MatrixCase): Observed {
  const host = resolveKvmHost(c.kernel);
  const behaviours = mmuBehavioursOf(host);
  const vm = new MemstressVm({
    nrVcpus: c.vcpus,
    vcpuMemoryBytes: c.pagesPerVcpu * 4096,
    slots: 1,
    backing: c.backing,
    thpCoverage: 1,
    manualProtect: true,
    initiallySet: true,
    ...behaviours,
    profile: DEFAULT_PROFILE,
    seed: 1,
    bailouts: c.bailouts,
  });
  const kvm = vm.kvm;
  const P = c.pagesPerVcpu;
  const touchedPages = Math.round(c.touched * P);
  for (const v of kvm.vcpus) guestAccessSequential(kvm, v, vm.vcpuStartGfn(v.vcpuIdx), vm.vcpuStartGfn(v.vcpuIdx) + touchedPages, WRITE_ALL);
  const s0 = kvm.stats.clone();
  const t0 = kvm.ioctl.ns;
  for (const slot of kvm.memslots) kvmEnableDirtyLogging(kvm, slot);
  clearAll(kvm, c.chunkedClear);
  const loggingNs = kvm.ioctl.ns - t0;
  const s1 = kvm.stats.clone();
  const rng = Rng.fromSeed(7);
  for (let v = 0; v < c.active; v++) vm.guestPass(v, 100, c.access === 'random', rng.fork(`vcpu${v}`));
  const pass = kvm.stats.since(s1);
  const logging = s1.since(s0);
  const npp = nsPerPage(behaviours);
  const disables = strategiesOfMmu(host.tdpMmu).map((strategy) => {
    const branch = kvm.cloneState();
    const before = branch.stats.clone();
    const i0 = branch.ioctl.ns;
    const vcpus = branch.vcpus.slice(0, c.active);
    for (const v of vcpus) v.inGuest = true;
    const activity = c.active > 0 ? new PartialActivity(new MemstressActivity(vm, 0, npp, c.access === 'random', 1), c.active) : undefined;
    for (const slot of branch.memslots) kvmDisableDirtyLogging(branch, slot, activity ? { strategy, activity, startNs: 0 } : { strategy });
    for (const v of vcpus) v.inGuest = false;
    const d = branch.stats.since(before);
    return {
      strategy,
      ns: branch.ioctl.ns - i0,
      flushes: d.tlbFlushes,
      zapped: d.sptesZapped,
      torndown: d.childSptesTornDown,
      promoted: d.hugePagesPromoted,
      bailouts: Object.values(d.bailouts).reduce((a, b) => a + b, 0),
      refaultsDuring: d.faults.refault,
      stallNs: d.vcpuStallNs,
    };
  });
  return {
    loggingNs,
    loggingFlushes: logging.tlbFlushes,
    loggingSplits: logging.hugePagesSplit,
    notPresentFaults: pass.faults.not_present,
    splitOnFault: pass.faults.split_on_fault,
    trackedWrites: pass.pmlLoggedWrites + pass.faults.fast + pass.faults.slow_wp,
    disables,
  };
}

/**
 * The aggregate model of the same cell: the active vCPUs' slices as one class touched at the detailed vCPUs' per-page
 * rate (a pass over a slice at `nsPerPage` per page), the halted vCPUs' slices as a class never touched; `mapped` is
 * the touched share. A random pass writes 1 - 1/e of a slice's pages (draws with replacement), a sequential one all.
 */
export function runAggregate(c: MatrixCase): Observed {
  const mmus = resolveKvmHostMmus(c.kernel);
  const host = mmus.inEffect;
  const P = c.pagesPerVcpu;
  const pages = c.vcpus * P;
  const npp = nsPerPage(host);
  const rate = 1e9 / (P * npp);
  const classes: PageClass[] = [];
  if (c.active > 0) classes.push({ name: 'active', pages: c.active * P, writeRate: rate, readRate: 0, mapped: c.touched });
  if (c.active < c.vcpus) classes.push({ name: 'halted', pages: (c.vcpus - c.active) * P, writeRate: 0, readRate: 0, mapped: c.touched });
  const mmu = new AggregateMmu({
    pages,
    vcpus: c.vcpus,
    backing: c.backing,
    thpCoverage: 1,
    manualProtect: true,
    kernel: mmus,
    profile: DEFAULT_PROFILE,
    bailouts: c.bailouts,
    classes,
  });
  const m = mmu.mmuOf(host.tdpMmu ? 'zap' : 'rmap-zap');
  const s0 = m.stats.clone();
  const t0 = m.ioctl.ns;
  mmu.enable(0);
  // Every bit is set (initially set): each class's pages and 64-page words. In chunks, as precopy's pass steps do
  // (`passStep`): each call covers its share of every class, `fresh` on the first pass.
  const nChunks = Math.ceil(pages / 262144);
  if (c.chunkedClear) {
    for (let k = 0; k < nChunks; k++) {
      const f = Math.min(262144, pages - k * 262144) / pages;
      mmu.clearDirtyLog(
        classes.map((cl) => cl.pages * f),
        classes.map((cl) => (cl.pages * f) / 64),
        1,
        0,
        f,
        true,
      );
    }
  } else {
    mmu.clearDirtyLog(
      classes.map((cl) => cl.pages),
      classes.map((cl) => cl.pages / 64),
      1,
      0,
    );
  }
  const loggingNs = m.ioctl.ns - t0;
  const s1 = m.stats.clone();
  const written = classes.map((cl) => (cl.writeRate > 0 ? (c.access === 'random' ? cl.pages * -Math.expm1(-1) : cl.pages) : 0));
  mmu.guestWrites(written, (P * npp) / 1e9);
  const pass = m.stats.since(s1);
  const logging = s1.since(s0);
  const strategies = host.tdpMmu ? strategiesOfMmu(true) : strategiesOfMmu(false);
  const costs = DEFAULT_PROFILE.costs;
  const disables = strategies.map((strategy) => {
    const a = mmu.evaluateDisable(strategy, c.active, 1);
    // The aggregate counts the refaults after the walk too (the storm, whenever it comes); the detailed model only
    // those while the walk runs. Where zapped units leave their tables behind (the leaf zap without the NX
    // adjustment, the shadow MMU's rmap zap without NX), each later refault replaces them and flushes.
    const later = a.stats.faults.refault - a.refaultsDuringDisable;
    const behaviours = mmu.mmuOf(strategy).mmu;
    const tablesLeft = (strategy === 'zap-leaf' && !nxForcesSmall(behaviours)) || (strategy === 'rmap-zap' && !behaviours.nxHugePages);
    const tables = unitTables(backingPageLevel(c.backing));
    const perLater = costs.fault_not_present_ns + (tablesLeft ? tables * (SPTE_ENT_PER_PAGE * costs.child_spte_teardown_nonpresent_ns + costs.sp_free_ns) + remoteTlbFlushNs(costs, c.vcpus, c.active) : 0);
    return {
      strategy,
      ns: a.ioctlNs,
      flushes: a.stats.tlbFlushes - (tablesLeft ? later : 0),
      zapped: a.stats.sptesZapped,
      torndown: a.stats.childSptesTornDown,
      promoted: a.stats.hugePagesPromoted,
      bailouts: Object.values(a.stats.bailouts).reduce((x, y) => x + y, 0),
      refaultsDuring: a.refaultsDuringDisable,
      stallNs: a.vcpuStallNs - later * perLater,
    };
  });
  return {
    loggingNs,
    loggingFlushes: logging.tlbFlushes,
    loggingSplits: logging.hugePagesSplit,
    notPresentFaults: pass.faults.not_present,
    splitOnFault: pass.faults.split_on_fault,
    trackedWrites: pass.pmlLoggedWrites + pass.faults.fast + pass.faults.slow_wp,
    disables,
  };
}
