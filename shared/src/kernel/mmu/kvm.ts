import { ChunkedBitmap } from '../../common/chunked-bitmap.js';
import { unitHash } from '../../engine/rng.js';
import type { BackingSource } from './backing-source.js';
import { CostLedger } from './cost-ledger.js';
import { CostId, type CostProfile } from './cost-profile.js';
import { HostBacking } from './host-backing.js';
import { KvmMemorySlot } from './kvm-memory-slot.js';
import { nxForcesSmall, type MmuBehaviours } from './mmu-behaviours.js';
import { MmuLock } from './mmu-lock.js';
import { MmuStats } from './mmu-stats.js';
import { KVM_MAX_HUGEPAGE_LEVEL, pagesPerHpage, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K, type Gfn } from './pg-level.js';
import { NO_BAILOUTS, type BailoutLikelihoods, type PromoteBailout } from './promote-bailout.js';
import { chargeRemoteTlbFlushes, remoteTlbFlushNs } from './remote-tlb-flush.js';
import { ENTRY_COLLAPSED, ENTRY_TABLE, G1_PAGES, TdpMmu, type MmuAccount } from './tdp-mmu.js';
import { Vcpu } from './vcpu.js';

/**
 * Host and VM configuration that decides what KVM does: the MMU and its behaviours (module parameters and the
 * release's code paths, resolved by `kernel/host`), the VM's capabilities and memory.
 */
export interface KvmConfig extends MmuBehaviours {
  /** Memslots as [baseGfn, npages) ranges, in address order, not overlapping. */
  readonly memslots: readonly { readonly baseGfn: Gfn; readonly npages: number }[];
  readonly backing: BackingSource;
  /** Fraction of 2 MiB regions the host backs with THPs (`anonymous_thp` only); default 1. */
  readonly thpCoverage?: number;
  readonly nrVcpus: number;
  /** `KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE` (QEMU and the selftest's default; `-g` turns it off). */
  readonly manualProtect: boolean;
  /** `KVM_DIRTY_LOG_INITIALLY_SET` (goes with manual protect). */
  readonly initiallySet: boolean;
  readonly profile: CostProfile;
  /** Seed of the VM's per-region draws (THP coverage, bail-outs). */
  readonly seed: number;
  readonly bailouts?: BailoutLikelihoods;
}

const BAILOUT_SALT: Record<PromoteBailout, number> = {
  mmu_notifier_in_progress: 0x6d6e6f74,
  pfn_not_mappable: 0x70666e6d,
  memtype_needs_vcpu: 0x6d747970,
  invalid_pfn: 0x696e7670,
};

/**
 * One VM (`struct kvm`) as far as dirty logging is concerned: its memslots, its MMU, its vCPUs, `mmu_lock`, the host
 * backing of its memory and the counters. The ioctl thread (the VMM's main thread issuing
 * KVM_SET_USER_MEMORY_REGION / GET / CLEAR) has its own cost ledger.
 *
 * `mmu` holds the page tables of an EPT/NPT guest, whichever MMU builds them: the shadow MMU (`config.tdpMmu`
 * false) maps a direct guest with the same shape (one root, a table per level, leaf SPTEs), and differs in how its
 * operations reach the SPTEs (rmaps per gfn and level instead of `tdp_iter` walks) and in taking `mmu_lock` for
 * write where the TDP MMU takes it for read.
 */
export class Kvm {
  readonly memslots: KvmMemorySlot[];
  mmu: TdpMmu;
  host: HostBacking;
  readonly vcpus: Vcpu[];
  readonly ioctl: CostLedger;
  /**
   * `mmu_lock` held for write by faulting vCPUs (the shadow MMU's `direct_page_fault`): the lock's own timeline.
   * vCPU faults serialize on it, so a pass takes no less than what this ledger adds up during it.
   */
  readonly faultLock: CostLedger;
  /** Refaults below a page table a leaf-only zap left are forced to 4K (`nxForcesSmall`). */
  readonly nxSmall: boolean;
  /** Work done in host context outside the VMM's threads (MMU notifier invalidations). */
  readonly hostLedger: CostLedger;
  readonly stats: MmuStats = new MmuStats();
  readonly mmuLock = new MmuLock();
  /** The memslots' dirty bitmaps, one bit per gfn (`memslot->dirty_bitmap`); all-zero storage while logging is off. */
  dirtyBitmap: ChunkedBitmap;
  readonly bailouts: BailoutLikelihoods;
  readonly nrVcpus: number;
  private inGuestCount = { n: 0 };
  private ioctlAcct: MmuAccount;

  constructor(readonly config: KvmConfig) {
    this.nrVcpus = config.nrVcpus;
    if (config.memslots.length === 0) throw new RangeError('a VM needs at least one memslot');
    this.memslots = config.memslots.map((m, i) => new KvmMemorySlot(i, m.baseGfn, m.npages));
    for (let i = 1; i < this.memslots.length; i++) {
      if (this.memslots[i]!.baseGfn < this.memslots[i - 1]!.endGfn) throw new RangeError('memslots overlap or are out of order');
    }
    const end = this.memslots[this.memslots.length - 1]!.endGfn;
    this.mmu = new TdpMmu(end);
    this.host = new HostBacking(config.backing, this.mmu.nGfns, config.thpCoverage ?? 1, config.seed);
    this.vcpus = Array.from({ length: config.nrVcpus }, (_, i) => new Vcpu(i, config.profile, this.inGuestCount));
    this.ioctl = new CostLedger(config.profile, 'ioctl');
    this.faultLock = new CostLedger(config.profile, 'mmu_lock (write, vCPU faults)');
    this.nxSmall = nxForcesSmall(config);
    this.hostLedger = new CostLedger(config.profile, 'host');
    this.ioctlAcct = { ledger: this.ioctl, stats: this.stats };
    for (const v of this.vcpus) v.account = { ledger: v.ledger, stats: this.stats };
    this.dirtyBitmap = new ChunkedBitmap(this.mmu.nGfns);
    this.bailouts = config.bailouts ?? NO_BAILOUTS;
  }

  get profile(): CostProfile {
    return this.config.profile;
  }

  /** The ioctl thread's account. */
  get ioctlAccount(): MmuAccount {
    return this.ioctlAcct;
  }

  vcpuAccount(vcpu: Vcpu): MmuAccount {
    return vcpu.account!;
  }

  /** `gfn_to_memslot`. */
  slotOf(gfn: Gfn): KvmMemorySlot | undefined {
    let lo = 0;
    let hi = this.memslots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.memslots[mid]!;
      if (gfn < s.baseGfn) hi = mid - 1;
      else if (gfn >= s.endGfn) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** vCPUs in guest mode now. */
  get nrRunningVcpus(): number {
    return this.inGuestCount.n;
  }

  /**
   * `kvm_mmu_max_mapping_level`: the largest level gfn can be mapped at, limited by the host page backing it
   * (`host_pfn_mapping_level`) and by the memslot (a huge page must not straddle the slot's edges, the
   * `disallow_lpage` of misaligned heads and tails). Dirty logging is not considered here; the fault path is.
   */
  maxMappingLevel(slot: KvmMemorySlot, gfn: Gfn): number {
    let level: number = this.host.hostMappingLevel(gfn);
    if (level === PG_LEVEL_4K) return level;
    // gfn < 2^31: unsigned shifts give the huge page's base.
    if (level === PG_LEVEL_2M) {
      const base = (gfn >>> 9) << 9;
      return base >= slot.baseGfn && base + 512 <= slot.baseGfn + slot.npages ? PG_LEVEL_2M : PG_LEVEL_4K;
    }
    level = Math.min(level, KVM_MAX_HUGEPAGE_LEVEL);
    while (level > PG_LEVEL_4K) {
      const size = pagesPerHpage(level);
      const base = gfn - (gfn % size);
      if (base >= slot.baseGfn && base + size <= slot.baseGfn + slot.npages) break;
      level--;
    }
    return level;
  }

  /**
   * `kvm_flush_remote_tlbs`: a TLB-flush request to every vCPU; running vCPUs get an IPI and the sender waits for
   * them. `running` is the number of vCPUs in guest mode at that moment. Each running vCPU loses time to the exit.
   */
  flushRemoteTlbs(acct: MmuAccount, running: number = this.nrRunningVcpus): void {
    this.flushRemoteTlbsN(acct, 1, running);
  }

  /** `n` remote TLB flushes in a row (a walk that flushes per zap), accounted in bulk. */
  flushRemoteTlbsN(acct: MmuAccount, n: number, running: number = this.nrRunningVcpus): void {
    if (n <= 0) return;
    acct.stats.vcpuStallNs += chargeRemoteTlbFlushes(acct.ledger, acct.stats, n, this.nrVcpus, running);
  }

  /** The cost of one remote TLB flush with `running` vCPUs in guest mode, in ns. */
  flushCostNs(running: number): number {
    return remoteTlbFlushNs(this.profile.costs, this.vcpus.length, running);
  }

  /**
   * `n` slow-path faults: the shadow MMU handles them with `mmu_lock` held for write (`direct_page_fault`), so each
   * holds the lock for `shadow_fault_locked_ns` on the lock's timeline; the TDP MMU takes it for read (5.12+).
   */
  slowPathFaults(n: number): void {
    if (!this.config.tdpMmu && n > 0) this.faultLock.charge(CostId.shadow_fault_locked_ns, n);
  }

  /** Whether promotion of the region at gfn bails out for `reason` (a seeded per-region draw). */
  bailsOut(reason: PromoteBailout, gfn: Gfn, level: number): boolean {
    const p = this.bailouts[reason];
    return p > 0 && unitHash(this.config.seed, BAILOUT_SALT[reason], Math.floor(gfn / 512), level) < p;
  }

  /**
   * Regions zapped for collapse that no vCPU has touched since: each costs one refault when the guest next touches
   * it (a 1 GiB-mappable region counts once).
   */
  collapsedRegionsPending(): number {
    const mmu = this.mmu;
    let n = 0;
    for (let g = 0; g < mmu.l3.length; g++) {
      const e3 = mmu.l3[g]!;
      if (e3 & ENTRY_COLLAPSED) {
        n++;
        continue;
      }
      if ((e3 & 3) !== ENTRY_TABLE) continue;
      let inside = 0;
      for (let r = g * 512; r < g * 512 + 512; r++) if (mmu.l2[r]! & ENTRY_COLLAPSED) inside++;
      if (inside === 0) continue;
      const slot = this.slotOf(g * G1_PAGES);
      n += slot && this.maxMappingLevel(slot, g * G1_PAGES) >= PG_LEVEL_1G ? 1 : inside;
    }
    return n;
  }

  /** Bytes the model's state takes for this VM (page-table model, bitmaps, host flags). */
  get stateBytes(): number {
    return this.mmu.stateBytes + this.dirtyBitmap.byteLength + this.host.byteLength;
  }

  /** Copies MMU state, host state, dirty bitmap and counters (not the ledgers), for paired counterfactuals. */
  cloneState(): Kvm {
    const c = Object.create(Kvm.prototype) as Kvm;
    Object.assign(c, this);
    const copy = c as unknown as {
      memslots: KvmMemorySlot[];
      vcpus: Vcpu[];
      ioctl: CostLedger;
      faultLock: CostLedger;
      mmuLock: MmuLock;
    };
    copy.memslots = this.memslots.map((s) => Object.assign(new KvmMemorySlot(s.id, s.baseGfn, s.npages, s.asId), { flags: s.flags }));
    const count = { n: 0 };
    (c as unknown as { inGuestCount: { n: number } }).inGuestCount = count;
    copy.vcpus = this.vcpus.map((v) => {
      const n = new Vcpu(v.vcpuIdx, this.profile, count);
      n.inGuest = v.inGuest;
      n.ledger.counts.set(v.ledger.counts);
      n.ledger.ns = v.ledger.ns;
      return n;
    });
    const ioctl = new CostLedger(this.profile, 'ioctl');
    ioctl.counts.set(this.ioctl.counts);
    ioctl.ns = this.ioctl.ns;
    copy.ioctl = ioctl;
    const faultLock = new CostLedger(this.profile, this.faultLock.label);
    faultLock.counts.set(this.faultLock.counts);
    faultLock.ns = this.faultLock.ns;
    copy.faultLock = faultLock;
    copy.mmuLock = new MmuLock();
    c.mmu = this.mmu.clone();
    c.host = this.host.clone();
    c.dirtyBitmap = this.dirtyBitmap.clone();
    (c as unknown as { stats: MmuStats }).stats = this.stats.clone();
    (c as unknown as { ioctlAcct: MmuAccount }).ioctlAcct = { ledger: ioctl, stats: c.stats };
    for (const v of copy.vcpus) v.account = { ledger: v.ledger, stats: c.stats };
    return c;
  }
}
