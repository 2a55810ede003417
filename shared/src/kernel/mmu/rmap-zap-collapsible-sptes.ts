import { ChunkKind, CHUNK_WORDS, popcount32, rangeMask } from '../../common/chunked-bitmap.js';
import { CondResched } from './cond-resched.js';
import { CostId } from './cost-profile.js';
import type { DisableWalkOptions } from './disable-walk.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import { LeafRefaults } from './leaf-refaults.js';
import { MmuLockWaits } from './mmu-lock-waits.js';
import { PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K } from './pg-level.js';
import { RefaultTracker } from './refault-tracker.js';
import { rmapHeads } from './rmap-heads.js';
import { ENTRY_COLLAPSED, ENTRY_LEAF, ENTRY_TABLE, G1_PAGES, R2 } from './tdp-mmu.js';

const M = new Uint32Array(CHUNK_WORDS);
const P = new Uint32Array(CHUNK_WORDS);
const W = new Uint32Array(CHUNK_WORDS);

/**
 * The shadow MMU's `kvm_mmu_zap_collapsible_sptes` (`kvm_rmap_zap_collapsible_sptes` from 6.0; the only disable of
 * `kvm.tdp_mmu=0` in every release; Wanpeng Li's lazy collapse, 3ea3b7fa9af0, kvm-4.1), with `mmu_lock` held for
 * write: `slot_handle_level` / `walk_slot_rmaps` visit every gfn's rmap head at each level from 4K up to
 * `config.rmapZapMaxLevel` (4K up to 5.19; 4K and 2M from 6.0, Matlack's "Zap collapsible SPTEs in shadow MMU at all
 * possible levels"), level by level in gfn order; `kvm_mmu_zap_collapsible_spte` drops each SPTE whose level is below
 * `kvm_mmu_max_mapping_level` (`pte_list_remove`). Flushes are batched: before each yield (`cond_resched_rwlock_write`,
 * which lets waiting vCPUs in) and once at the end (`kvm_flush_remote_tlbs_memslot`). Page tables stay present: a
 * refault maps the region huge over its table (`mmu_set_spte` → `drop_parent_pte`), or at 4K below it when the NX
 * adjustment forces it (before 6.2): then huge pages never come back. vCPUs that fault during the walk wait for
 * its next yield.
 */
export function kvmRmapZapCollapsibleSptes(kvm: Kvm, slot: KvmMemorySlot, running: number, options: DisableWalkOptions): void {
  const mmu = kvm.mmu;
  const ledger = kvm.ioctl;
  const acct = kvm.ioctlAccount;
  const t0 = ledger.ns;
  const startNs = options.startNs ?? 0;
  const now = (): number => startNs + (ledger.ns - t0);
  const lock = new MmuLockWaits(startNs);
  const resched = new CondResched(kvm);
  const refaults = new RefaultTracker(kvm, options.activity, slot);
  const leafRefaults = kvm.nxSmall && options.activity ? new LeafRefaults(kvm, options.activity) : undefined;
  const perLeafNs = kvm.profile.costs.rmap_spte_ns + kvm.profile.costs.leaf_zap_ns;
  let flushPending = false;
  const maybeYield = (): void => {
    if (!resched.due()) return;
    if (flushPending) {
      kvm.flushRemoteTlbs(acct, running);
      flushPending = false;
    }
    resched.yielded();
    lock.yielded(now());
  };

  // The 4K rmaps, in gfn order.
  for (let r = Math.floor(slot.baseGfn / R2); r * R2 < slot.endGfn; r++) {
    maybeYield();
    const regionGfn = r * R2;
    const lo = Math.max(slot.baseGfn, regionGfn);
    const hi = Math.min(slot.endGfn, regionGfn + R2);
    ledger.charge(CostId.rmap_walk_ns, hi - lo);
    if ((mmu.l3[regionGfn >>> 18]! & 3) !== ENTRY_TABLE || (mmu.l2[r]! & 3) !== ENTRY_TABLE) continue;
    const whole = lo === regionGfn && hi === regionGfn + R2;
    mmu.present.readChunk(r, P);
    if (!whole) {
      rangeMask(lo - regionGfn, hi - regionGfn, M);
      for (let w = 0; w < CHUNK_WORDS; w++) P[w] = (P[w]! & M[w]!) >>> 0;
    }
    let n = 0;
    for (let w = 0; w < CHUNK_WORDS; w++) n += popcount32(P[w]!);
    if (n === 0) continue;
    ledger.charge(CostId.rmap_spte_ns, n);
    if (kvm.maxMappingLevel(slot, regionGfn) <= PG_LEVEL_4K) continue;
    const tz = now();
    ledger.charge(CostId.leaf_zap_ns, n);
    kvm.stats.sptesZapped += n;
    mmu.pages[PG_LEVEL_4K]! -= n;
    if (leafRefaults) leafRefaults.record(r, whole && mmu.present.chunkKind(r) === ChunkKind.One ? null : P, tz, perLeafNs, n);
    if (whole) {
      mmu.present.setChunkUniform(r, false);
      mmu.writable.setChunkUniform(r, false);
      mmu.l2[r] = mmu.l2[r]! | ENTRY_COLLAPSED;
    } else {
      mmu.present.readChunk(r, M);
      mmu.writable.readChunk(r, W);
      for (let w = 0; w < CHUNK_WORDS; w++) {
        M[w] = (M[w]! & ~P[w]!) >>> 0;
        W[w] = (W[w]! & ~P[w]!) >>> 0;
      }
      mmu.present.writeChunk(r, M);
      mmu.writable.writeChunk(r, W);
    }
    if (!leafRefaults) refaults.onCollapsed(regionGfn, R2, tz);
    flushPending = true;
  }

  // The 2M rmaps (6.0+): 2M leaves of 1G-capable ranges.
  if (kvm.config.rmapZapMaxLevel >= PG_LEVEL_2M) {
    ledger.charge(CostId.rmap_walk_ns, rmapHeads(slot, PG_LEVEL_2M));
    for (let g = Math.floor(slot.baseGfn / G1_PAGES); g * G1_PAGES < slot.endGfn; g++) {
      maybeYield();
      if ((mmu.l3[g]! & 3) !== ENTRY_TABLE) continue;
      const r0 = Math.max(g * 512, Math.ceil(slot.baseGfn / R2));
      const r1 = Math.min(g * 512 + 512, Math.floor(slot.endGfn / R2));
      for (let r = r0; r < r1; r++) {
        if ((mmu.l2[r]! & 3) !== ENTRY_LEAF) continue;
        ledger.charge(CostId.rmap_spte_ns);
        if (kvm.maxMappingLevel(slot, r * R2) < PG_LEVEL_1G) continue;
        const tz = now();
        ledger.charge(CostId.leaf_zap_ns);
        mmu.zapEntry(PG_LEVEL_2M, r * R2, acct, true);
        kvm.stats.sptesZapped++;
        refaults.onCollapsed(r * R2, R2, tz);
        flushPending = true;
      }
    }
  }
  if (flushPending) kvm.flushRemoteTlbs(acct, running);
  const endNs = now();
  lock.ended(endNs);
  refaults.settle(endNs, lock);
  leafRefaults?.settle(endNs, lock);
  kvm.stats.vcpuStallNs += lock.waitedNs;
}
