import { ChunkKind, CHUNK_WORDS, popcount32 } from '../../common/chunked-bitmap.js';
import { CostId } from './cost-profile.js';
import type { DisableStrategy } from './disable-strategy.js';
import { walkSlotForDisable, type DisableWalkOptions } from './disable-walk.js';
import type { KvmMemorySlot } from './kvm-memory-slot.js';
import type { Kvm } from './kvm.js';
import { LeafRefaults } from './leaf-refaults.js';
import { MmuLockWaits } from './mmu-lock-waits.js';
import { notPresentFault } from './page-fault.js';
import { pagesPerHpage, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K } from './pg-level.js';
import { RefaultTracker } from './refault-tracker.js';
import { isLastSpte } from './spte.js';
import type { TdpIter } from './tdp-iter.js';
import { ENTRY_COLLAPSED, ENTRY_LEAF, ENTRY_TABLE, ENTRY_W, G1_PAGES, R2 } from './tdp-mmu.js';
import { newTouch } from './vcpu-activity.js';
import type { Vcpu } from './vcpu.js';
import { fastPaths } from './fast-paths.js';

/**
 * `kvm_tdp_mmu_zap_collapsible_sptes` in its generations:
 * - `zap-leaf` (5.10 - 5.18, `zap_collapsible_spte_range`): every collapsible leaf is zapped and page tables stay;
 *   one remote TLB flush per zap under the read lock from 5.13 (2db6f772b530), flushes batched at yields and at the
 *   end under the write lock before (`config.zapLeafFlush`). With the NX mitigation adjusting below any non-leaf
 *   SPTE (before 6.2), a vCPU touching a zapped leaf maps it back at 4K and the walk zaps every leaf; otherwise its
 *   refault maps the region huge over the table and the walk finds nothing left there;
 * - `zap` (5.19 - 6.12): the collapsible non-leaf SPTE at the highest level is frozen, flushed, zapped; its tables
 *   are torn down; one flush per zap. 5.19 (5ba7c4c6d1c7) still walks down to a leaf before stepping up
 *   (`tdp_iter_step_up`) and reads every leaf of a table it cannot collapse (`config.zapWalksLeaves`); 6.0
 *   (85f44f8cc07b) stops at 2M;
 * - `zap-batched` (35ef80eb29ab, a counterfactual: it shipped in 6.13 with in-place recovery): written non-present
 *   directly; flushes only at yields and at the end.
 * Zapped regions are refaulted by running vCPUs (huge, or at 4K below a table when the NX adjustment forces it).
 */
export function kvmTdpMmuZapCollapsibleSptes(
  kvm: Kvm,
  slot: KvmMemorySlot,
  strategy: Exclude<DisableStrategy, 'promote' | 'rmap-zap'>,
  running: number,
  options: DisableWalkOptions,
): void {
  const mmu = kvm.mmu;
  const ledger = kvm.ioctl;
  const acct = kvm.ioctlAccount;
  const t0 = ledger.ns;
  const startNs = options.startNs ?? 0;
  const now = (): number => startNs + (ledger.ns - t0);
  const refaults = new RefaultTracker(kvm, options.activity, slot);
  const activity = options.activity;
  const nxSmall = kvm.nxSmall;
  const leafRefaults = strategy === 'zap-leaf' && nxSmall && activity ? new LeafRefaults(kvm, activity) : undefined;
  // 5.10 - 5.12: the leaf zap holds mmu_lock for write and batches its flushes; vCPUs refault only at its yields.
  const batchedLeaf = strategy === 'zap-leaf' && kvm.config.zapLeafFlush === 'batched';
  const lock = batchedLeaf ? new MmuLockWaits(startNs) : undefined;
  const walksLeaves = strategy !== 'zap-leaf' && kvm.config.zapWalksLeaves;
  const flushNs = kvm.flushCostNs(running);
  const perLeafNs = kvm.profile.costs.leaf_zap_ns + (batchedLeaf ? 0 : flushNs);
  // zap-leaf with running vCPUs (read lock, no NX adjustment): a refault of a 1G-capable region mid-walk maps it 1G
  // and ends its zapping.
  const raceable = strategy === 'zap-leaf' && !nxSmall && !batchedLeaf;
  let pending1G: { g: number; tNs: number; vcpuIdx: number } | undefined;
  const touch = newTouch();

  walkSlotForDisable(
    kvm,
    slot,
    running,
    (iter) => {
      const { level, gfn } = iter;
      if (strategy === 'zap-leaf') {
        if (pending1G && level === PG_LEVEL_2M && Math.floor(gfn / G1_PAGES) === pending1G.g && pending1G.tNs <= now()) {
          notPresentFault(kvm, kvm.vcpus[pending1G.vcpuIdx]!, pending1G.g * G1_PAGES);
          pending1G = undefined;
          iter.read();
        }
        return zapLeafEntry(iter);
      }

      if (isLastSpte(iter.oldSpte, level)) return false;
      if (kvm.maxMappingLevel(slot, gfn) < level) {
        // 5.19 steps into a table it cannot collapse and reads its leaves.
        if (walksLeaves && level === PG_LEVEL_2M) ledger.charge(CostId.spte_walk_ns, R2);
        return false;
      }
      // Collapsible: zap the non-leaf SPTE at this level; `zap` flushes at once, `zap-batched` leaves it pending.
      // 5.19 first walks down to a leaf and steps back up to this level.
      if (walksLeaves) ledger.charge(CostId.spte_walk_ns, level - PG_LEVEL_4K);
      const tz = now();
      ledger.charge(CostId.nonleaf_spte_replace_ns);
      let frozenUntil = tz;
      if (strategy === 'zap') {
        kvm.flushRemoteTlbs(acct, running);
        frozenUntil = now();
      }
      mmu.zapEntry(level, gfn, acct, true);
      kvm.stats.sptesZapped++;
      refaults.onCollapsed(gfn, pagesPerHpage(level), tz, frozenUntil);
      iter.skipChildren();
      return strategy === 'zap-batched';
    },
    lock ? () => lock.yielded(now()) : undefined,
  );
  if (pending1G) refaults.push(pending1G.tNs, pending1G.g * G1_PAGES, pending1G.vcpuIdx);
  const endNs = now();
  lock?.ended(endNs);
  refaults.settle(endNs, lock);
  leafRefaults?.settle(endNs, lock);
  if (lock) kvm.stats.vcpuStallNs += lock.waitedNs;

  /**
   * The leaf walk at one SPTE above 4K: zap collapsible 2M leaves; zap a 4K table's collapsible leaves. Returns
   * whether a batched flush is left pending.
   */
  function zapLeafEntry(it: TdpIter): boolean {
    const { level, gfn } = it;
    if (level !== PG_LEVEL_2M) return false;
    const kind = mmu.entryKind(PG_LEVEL_2M, gfn);
    const maxLevel = kvm.maxMappingLevel(slot, gfn);
    if (kind === ENTRY_LEAF) {
      if (maxLevel < PG_LEVEL_1G) return false;
      const tz = now();
      ledger.charge(CostId.leaf_zap_ns);
      if (!batchedLeaf) kvm.flushRemoteTlbs(acct, running);
      mmu.zapEntry(PG_LEVEL_2M, gfn, acct, true);
      kvm.stats.sptesZapped++;
      noteCollapsed(gfn, tz);
      it.read();
      return batchedLeaf;
    }
    if (kind !== ENTRY_TABLE || maxLevel < PG_LEVEL_2M) return false;
    const r = gfn >>> 9;
    const n = mmu.present.chunkCount(r);
    const ts = now();
    // A running vCPU that touches a page the walk has already zapped, while the walk is still zapping the table,
    // maps the region huge at once; the walk then finds nothing left to zap there.
    const raced = raceable && activity !== undefined && n > 0 && activity.firstTouchOfZappedPrefix(gfn, n, ts, perLeafNs, touch) && touch.tNs < ts + n * perLeafNs;
    const zapped = raced ? Math.min(n, Math.max(1, Math.ceil((touch.tNs - ts) / perLeafNs))) : n;
    ledger.charge(CostId.spte_walk_ns, R2 - zapped);
    ledger.charge(CostId.leaf_zap_ns, zapped);
    if (!batchedLeaf) kvm.flushRemoteTlbsN(acct, zapped, running);
    kvm.stats.sptesZapped += zapped;
    const refaultNow = raced && zapped < n;
    if (refaultNow && maxLevel === PG_LEVEL_2M && fastPaths.enabled && kvm.host.isPopulated(r)) {
      refaultZappedTable(r, n, n - zapped, kvm.vcpus[touch.vcpuIdx]!);
    } else {
      if (leafRefaults && zapped > 0) {
        leafRefaults.record(r, mmu.present.chunkKind(r) === ChunkKind.One ? null : mmu.present.readChunk(r, P_WORDS), ts, perLeafNs, zapped);
      }
      clearFirstPresent(r, zapped);
      mmu.l2[r] = mmu.l2[r]! | ENTRY_COLLAPSED;
      if (refaultNow) notPresentFault(kvm, kvm.vcpus[touch.vcpuIdx]!, gfn);
      else if (zapped > 0 && !nxSmall) noteCollapsed(gfn, ts);
    }
    it.read();
    return batchedLeaf && zapped > 0;
  }

  /**
   * Shortcut of `clearFirstPresent(r, n - left)` + mark collapsed + `notPresentFault` on a populated region that can
   * be mapped 2M: the vCPU's refault replaces the table (still holding `left` present leaves) with a 2M leaf.
   */
  function refaultZappedTable(r: number, n: number, left: number, vcpu: Vcpu): void {
    const vacct = kvm.vcpuAccount(vcpu);
    const vledger = vcpu.ledger;
    const before = vledger.ns;
    vledger.charge(CostId.fault_not_present_ns);
    kvm.stats.faults.refault++;
    kvm.slowPathFaults(1);
    mmu.pages[PG_LEVEL_4K]! -= n - left;
    mmu.present.setChunkUniform(r, false);
    mmu.writable.setChunkUniform(r, false);
    // handle_removed_pt of the table as it stood: `left` present children.
    vledger.charge(CostId.child_spte_teardown_ns, left);
    vledger.charge(CostId.child_spte_teardown_nonpresent_ns, R2 - left);
    kvm.stats.childSptesTornDown += left;
    mmu.pages[PG_LEVEL_4K]! -= left;
    mmu.spCount[PG_LEVEL_4K]!--;
    vledger.charge(CostId.sp_free_ns);
    kvm.stats.spFreed++;
    mmu.l2[r] = ENTRY_LEAF | ENTRY_W;
    mmu.pages[PG_LEVEL_2M]!++;
    kvm.flushRemoteTlbs(vacct);
    kvm.stats.vcpuStallNs += vledger.ns - before;
  }

  function noteCollapsed(gfn: number, tz: number): void {
    if (!options.activity) return;
    const slotLevel = kvm.maxMappingLevel(slot, gfn);
    if (slotLevel >= PG_LEVEL_1G && raceable) {
      if (!options.activity.firstTouch(gfn, R2, tz, touch)) return;
      const g = Math.floor(gfn / G1_PAGES);
      if (pending1G && pending1G.g !== g) {
        refaults.push(pending1G.tNs, pending1G.g * G1_PAGES, pending1G.vcpuIdx);
        pending1G = undefined;
      }
      if (!pending1G || touch.tNs < pending1G.tNs) pending1G = { g, tNs: touch.tNs, vcpuIdx: touch.vcpuIdx };
      return;
    }
    refaults.onCollapsed(gfn, R2, tz);
  }

  /** Zaps the first `k` present 4K leaves of table r (the walk goes in gfn order). */
  function clearFirstPresent(r: number, k: number): void {
    if (k <= 0) return;
    const n = mmu.present.chunkCount(r);
    if (k >= n) {
      mmu.present.setChunkUniform(r, false);
      mmu.writable.setChunkUniform(r, false);
      mmu.pages[1]! -= n;
      return;
    }
    if (mmu.present.chunkKind(r) === ChunkKind.One) {
      // The common case: a full table, its first k leaves zapped.
      for (let w = 0; w < CHUNK_WORDS; w++) {
        const lo = w * 32;
        P_WORDS[w] = k >= lo + 32 ? 0 : k <= lo ? 0xffffffff : (~((1 << (k - lo)) - 1)) >>> 0;
      }
    } else mmu.present.readChunk(r, P_WORDS);
    const wKind = mmu.writable.chunkKind(r);
    if (wKind !== ChunkKind.Zero) mmu.writable.readChunk(r, W_WORDS);
    let left = mmu.present.chunkKind(r) === ChunkKind.One ? 0 : k;
    for (let w = 0; w < CHUNK_WORDS && left > 0; w++) {
      let v = P_WORDS[w]!;
      const c = popcount32(v);
      if (c <= left) {
        v = 0;
        left -= c;
      } else {
        for (; left > 0; left--) v = (v & (v - 1)) >>> 0;
      }
      P_WORDS[w] = v >>> 0;
    }
    mmu.present.writeChunk(r, P_WORDS);
    if (wKind !== ChunkKind.Zero) {
      for (let w = 0; w < CHUNK_WORDS; w++) W_WORDS[w] = (W_WORDS[w]! & P_WORDS[w]!) >>> 0;
      mmu.writable.writeChunk(r, W_WORDS);
    }
    mmu.pages[1]! -= k;
  }
}

const P_WORDS = new Uint32Array(CHUNK_WORDS);
const W_WORDS = new Uint32Array(CHUNK_WORDS);
