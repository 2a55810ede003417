import { backingPageLevel } from '../mmu/backing-source.js';
import { guestAccessSequential } from '../mmu/guest-access-sequential.js';
import { Kvm, type KvmConfig } from '../mmu/kvm.js';
import { kvmGuestAccess } from '../mmu/page-fault.js';
import { pagesPerHpage, type Gfn } from '../mmu/pg-level.js';
import type { BailoutLikelihoods } from '../mmu/promote-bailout.js';
import type { Touch, VcpuActivity } from '../mmu/vcpu-activity.js';
import { WRITE_ALL, WRITE_NONE, type WriteDecider } from '../mmu/write-decider.js';
import { unitHash, type Rng } from '../../engine/rng.js';

/** Where memstress puts guest test memory: 4 GiB, aligned for every backing page size. */
export const MEMSTRESS_BASE_GFN: Gfn = 0x100000;

/** The VM's configuration, with its memory given as a size per vCPU and a number of memslots. */
export interface MemstressConfig extends Omit<KvmConfig, 'memslots' | 'thpCoverage' | 'bailouts'> {
  /** Guest memory per vCPU, bytes (`-b`). */
  readonly vcpuMemoryBytes: number;
  /** Memslots the region is split into (`-x`). */
  readonly slots: number;
  readonly thpCoverage: number;
  readonly bailouts: BailoutLikelihoods;
}

/** A layout error the user can fix (the selftest's TEST_ASSERTs on sizes). */
export class MemstressLayoutError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
    this.name = 'MemstressLayoutError';
  }
}

/**
 * The selftests' memstress VM (tools/testing/selftests/kvm/lib/memstress.c): `nrVcpus` vCPUs each owning a
 * contiguous slice of `vcpuMemoryBytes` of guest memory, the whole split evenly into `slots` memslots.
 */
export class MemstressVm {
  readonly kvm: Kvm;
  readonly pagesPerVcpu: number;
  readonly totalPages: number;

  constructor(readonly config: MemstressConfig) {
    this.pagesPerVcpu = Math.floor(config.vcpuMemoryBytes / 4096);
    if (this.pagesPerVcpu * 4096 !== config.vcpuMemoryBytes || this.pagesPerVcpu < 1) {
      throw new MemstressLayoutError('-b', `guest memory per vCPU must be a positive multiple of 4KiB, got ${config.vcpuMemoryBytes} bytes`);
    }
    this.totalPages = this.pagesPerVcpu * config.nrVcpus;
    if (this.totalPages % config.slots !== 0) {
      throw new MemstressLayoutError('-x', `guest memory (${this.totalPages} pages) cannot be evenly divided into ${config.slots} memslots`);
    }
    const perSlot = this.totalPages / config.slots;
    const hostPages = pagesPerHpage(backingPageLevel(config.backing));
    if (config.backing !== 'anonymous' && config.backing !== 'anonymous_thp' && perSlot % hostPages !== 0) {
      throw new MemstressLayoutError(
        '-b',
        `each memslot (${perSlot * 4} KiB) must be a multiple of the ${config.backing} page size (${hostPages * 4} KiB); adjust -b, -v or -x`,
      );
    }
    if ((MEMSTRESS_BASE_GFN + this.totalPages) > 2 ** 31) throw new MemstressLayoutError('-b', 'guest memory above 8 TiB is not modelled');
    const { vcpuMemoryBytes: _bytes, slots: _slots, ...kvmConfig } = config;
    const memslots = Array.from({ length: config.slots }, (_, i) => ({ baseGfn: MEMSTRESS_BASE_GFN + i * perSlot, npages: perSlot }));
    this.kvm = new Kvm({ ...kvmConfig, memslots });
  }

  vcpuStartGfn(vcpuIdx: number): Gfn {
    return MEMSTRESS_BASE_GFN + vcpuIdx * this.pagesPerVcpu;
  }

  /**
   * One pass of `memstress_guest_code` on vCPU `vcpuIdx`: every page of its slice touched once at 4 KiB stride,
   * written with probability writePercent/100, in order or (randomAccess) at random pages drawn with replacement.
   * Returns the simulated ns the pass took on that vCPU.
   */
  guestPass(vcpuIdx: number, writePercent: number, randomAccess: boolean, rng: Rng): number {
    const kvm = this.kvm;
    const vcpu = kvm.vcpus[vcpuIdx]!;
    const before = vcpu.ledger.ns;
    const start = this.vcpuStartGfn(vcpuIdx);
    if (randomAccess) {
      for (let i = 0; i < this.pagesPerVcpu; i++) {
        const page = rng.nextInt(this.pagesPerVcpu);
        kvmGuestAccess(kvm, vcpu, start + page, rng.nextInt(100) < writePercent);
      }
    } else {
      guestAccessSequential(kvm, vcpu, start, start + this.pagesPerVcpu, writeDecider(writePercent, rng));
    }
    return vcpu.ledger.ns - before;
  }
}

/** Which pages a sequential pass writes: all, none, or each with probability p (geometric skips, O(writes)). */
export function writeDecider(writePercent: number, rng: Rng): WriteDecider {
  if (writePercent >= 100) return WRITE_ALL;
  if (writePercent <= 0) return WRITE_NONE;
  const p = writePercent / 100;
  // Pages are decided in address order: `next` is the offset (from the pass's first page) of the next write.
  let origin = -1;
  let next = 0;
  return {
    fill(regionGfn, lo, hi, out) {
      out.fill(0);
      const first = regionGfn + lo;
      if (origin < 0) {
        origin = first;
        next = first + rng.geometric(p);
      }
      const end = regionGfn + hi;
      while (next < end) {
        if (next >= first) {
          const bit = next - regionGfn;
          out[bit >>> 5] = (out[bit >>> 5]! | (1 << (bit & 31))) >>> 0;
        }
        next += 1 + rng.geometric(p);
      }
    },
  };
}

/**
 * vCPUs looping over their slices while the host disables logging (`-e`): each restarts its pass at the start of
 * its slice when released and then sweeps it at `nsPerPage`. Random access touches a region after a seeded,
 * exponentially distributed delay with the mean of a random walk.
 */
/** Mean inter-touch times after which a random walk has touched a page with probability 1 - e^-40. */
const RANDOM_REVISIT_MEANS = 40;

export class MemstressActivity implements VcpuActivity {
  readonly running: number;
  readonly revisitNs: number;

  constructor(
    private readonly vm: MemstressVm,
    private readonly releasedAtNs: number,
    private readonly nsPerPage: number,
    private readonly randomAccess: boolean,
    private readonly seed: number,
  ) {
    this.running = vm.config.nrVcpus;
    this.pagesPerNs = 1 / nsPerPage;
    // A page of a P-page slice is touched once per sweep, or at rate 1 / (P * nsPerPage) by a random walk.
    this.revisitNs = vm.pagesPerVcpu * nsPerPage * (randomAccess ? RANDOM_REVISIT_MEANS : 1);
  }

  private readonly pagesPerNs: number;

  firstTouch(gfn: Gfn, npages: number, tNs: number, out: Touch): boolean {
    const P = this.vm.pagesPerVcpu;
    const rel = gfn - MEMSTRESS_BASE_GFN;
    const first = rel <= 0 ? 0 : Math.floor(rel / P);
    const last = Math.min(this.vm.config.nrVcpus - 1, Math.floor((rel + npages - 1) / P));
    let found = false;
    for (let v = first; v <= last; v++) {
      const s = v * P;
      const a = Math.max(rel, s) - s;
      const b = Math.min(rel + npages, s + P) - s;
      if (b <= a) continue;
      let t: number;
      if (this.randomAccess) {
        const u = unitHash(this.seed, 0x52414e44, Math.floor(gfn / 512), Math.floor(tNs));
        t = tNs - Math.log(1 - u) * (P / (b - a)) * this.nsPerPage;
      } else {
        const swept = (tNs - this.releasedAtNs) * this.pagesPerNs;
        const pos = swept - Math.floor(swept / P) * P;
        if (pos >= a && pos < b) t = tNs;
        else {
          const ahead = a - pos;
          t = tNs + (ahead >= 0 ? ahead : ahead + P) * this.nsPerPage;
        }
      }
      if (!found || t < out.tNs) {
        out.vcpuIdx = v;
        out.tNs = t;
        found = true;
      }
    }
    return found;
  }

  /**
   * A sweep enters a region at its first page, which the walk zaps first: its first touch of the zapped prefix is its
   * first touch of that page. A random walk touches each page of its slice at rate 1 / (P * nsPerPage); with the
   * prefix growing one page per `zapNs`, touches of it arrive as a Poisson process of intensity rate * k(t), whose
   * first arrival is drawn by inverting the integrated intensity (seeded per region and time). The region's owner
   * is the vCPU of its first page (memstress slices are whole 2 MiB regions for huge backings).
   */
  firstTouchOfZappedPrefix(gfn: Gfn, npages: number, tNs: number, zapNs: number, out: Touch): boolean {
    if (!this.randomAccess) return this.firstTouch(gfn, 1, tNs, out);
    const P = this.vm.pagesPerVcpu;
    const rel = gfn - MEMSTRESS_BASE_GFN;
    const v = rel <= 0 ? 0 : Math.floor(rel / P);
    if (v >= this.vm.config.nrVcpus || npages <= 0) return false;
    const k = Math.min(npages, (v + 1) * P - Math.max(rel, 0));
    const rate = 1 / (P * this.nsPerPage);
    const e = -Math.log(1 - unitHash(this.seed, 0x5a505246, Math.floor(gfn / 512), Math.floor(tNs)));
    const whileGrowing = (rate * k * k * zapNs) / 2;
    const dt = e <= whileGrowing ? Math.sqrt((2 * zapNs * e) / rate) : k * zapNs + (e - whileGrowing) / (rate * k);
    out.vcpuIdx = v;
    out.tNs = tNs + dt;
    return true;
  }
}
