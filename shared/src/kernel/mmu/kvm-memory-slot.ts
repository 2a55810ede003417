import type { Gfn } from './pg-level.js';

/** `KVM_MEM_LOG_DIRTY_PAGES`: the memslot flag that turns dirty logging on. */
export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;

/**
 * `struct kvm_memory_slot`: a half-open gfn range [baseGfn, baseGfn + npages) of one address space. Its dirty bitmap
 * lives in the VM's MMU-wide bitmap (indexed by gfn); GET/CLEAR take page offsets relative to `baseGfn` as the ioctls do.
 */
export class KvmMemorySlot {
  flags = 0;

  constructor(
    readonly id: number,
    readonly baseGfn: Gfn,
    readonly npages: number,
    readonly asId: number = 0,
  ) {
    if (!Number.isInteger(npages) || npages <= 0) throw new RangeError(`memslot ${id}: npages must be a positive integer`);
  }

  get endGfn(): Gfn {
    return this.baseGfn + this.npages;
  }

  get dirtyLogging(): boolean {
    return (this.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
  }

  contains(gfn: Gfn): boolean {
    return gfn >= this.baseGfn && gfn < this.endGfn;
  }
}
