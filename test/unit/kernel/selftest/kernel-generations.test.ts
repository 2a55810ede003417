import { describe, expect, it } from 'vitest';
import { parseDirtyLogPerfArgs } from '../../../../shared/src/cli/dirty-log-perf-command.js';
import { CostId } from '../../../../shared/src/kernel/mmu/cost-profile.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import type { DisableStrategy } from '../../../../shared/src/kernel/mmu/disable-strategy.js';
import { runDirtyLogPerf, type DirtyLogPerfRun } from '../../../../shared/src/kernel/selftest/dirty-log-perf.js';

/** Runs `migsim dirty-log-perf ARGS` on the model, exactly as the command parses them. */
function run(args: string): DirtyLogPerfRun {
  return runDirtyLogPerf(parseDirtyLogPerfArgs(args.split(/\s+/).filter(Boolean)));
}

function strategy(r: DirtyLogPerfRun, s: DisableStrategy) {
  const x = r.strategies.find((st) => st.strategy === s);
  if (!x) throw new Error(`no ${s}`);
  return x;
}

const costs = DEFAULT_PROFILE.costs;

describe('NX huge pages (disallowed_hugepage_adjust)', () => {
  it('NX huge pages: after a leaf zap, refaults map 4K and 1 GiB pages never return before 6.2 (76901e56fb51)', () => {
    const vm = '-v 8 -b 1G -s anonymous_hugetlb_1gb -e --strategy zap-leaf';
    const on = strategy(run(`${vm} --kernel 5.15 --nx-huge-pages on`), 'zap-leaf');
    const off = strategy(run(`${vm} --kernel 5.15 --nx-huge-pages off`), 'zap-leaf');
    // Mitigation off: the first refault of each unit maps it 1G over the tables the walk left.
    expect(off.pagesByLevel).toEqual([0, 0, 8]);
    // Mitigation on, 5.15: every refault is forced below the present tables; no 1G mapping comes back.
    expect(on.pagesByLevel[2]).toBe(0);
    expect(on.pagesByLevel[0]).toBeGreaterThan(0.99 * 8 * 262144);
    expect(on.disableStats.faults.refault).toBe(on.pagesByLevel[0]);
    // 6.2 adjusts only below NX-created tables, which the model's guests (no exec faults) never have.
    const fixed = strategy(run(`${vm} --kernel 6.2 --nx-huge-pages on`), 'zap-leaf');
    expect(fixed.pagesByLevel).toEqual([0, 0, 8]);
  });

  it('NX huge pages: the 2021 zap-leaf race no longer ends a 1 GiB unit\'s walk: every leaf is zapped with its flush (5.13 - 5.18)', () => {
    const vm = '-v 8 -b 1G -s anonymous_hugetlb_1gb -e --strategy zap-leaf --kernel 5.15';
    const on = strategy(run(`${vm} --nx-huge-pages on`), 'zap-leaf');
    const off = strategy(run(`${vm} --nx-huge-pages off`), 'zap-leaf');
    expect(on.disableStats.sptesZapped).toBe(8 * 262144);
    expect(on.disableStats.tlbFlushes).toBe(8 * 262144);
    expect(off.disableStats.sptesZapped).toBeLessThan(8 * 262144);
    expect(on.disable.ns / off.disable.ns).toBeGreaterThan(10);
  });

  it('NX huge pages: the shadow MMU\'s rmap zap leaves tables too, so huge pages never return before 6.2 either', () => {
    const vm = '-v 4 -b 1G -s anonymous_hugetlb_2mb -e --tdp-mmu off';
    const old = strategy(run(`${vm} --kernel 6.1`), 'rmap-zap');
    const fixed = strategy(run(`${vm} --kernel 6.2`), 'rmap-zap');
    expect(old.pagesByLevel[1]).toBe(0);
    expect(fixed.pagesByLevel[1]).toBeGreaterThan(0);
    expect(fixed.pagesByLevel[0]).toBe(0);
  });
});

describe('the shadow MMU (kvm.tdp_mmu=0)', () => {
  it('shadow MMU: rmap zap keeps page tables and flushes at the end (kvm_mmu_zap_collapsible_sptes, 5.15)', () => {
    const r = run('-v 16 -b 1G -s anonymous_hugetlb_2mb --kernel 5.15 --tdp-mmu off');
    const z = strategy(r, 'rmap-zap');
    expect(r.params.strategies).toEqual(['rmap-zap']);
    // Every 4K leaf zapped (the 4K rmaps only up to 5.19); not one page-table page freed.
    expect(z.disableStats.sptesZapped).toBe(16 * 262144);
    expect(z.disableStats.spFreed).toBe(0);
    expect(z.disableStats.childSptesTornDown).toBe(0);
    // One flush before each yield of the write-locked walk and one at the end, not one per zap.
    expect(z.disableStats.tlbFlushes).toBe(z.disableStats.yields + 1);
    expect(z.disableStats.mmuLockWriteNs).toBeCloseTo(z.disable.ns - costs.memslot_update_ns, 0);
    expect(z.collapsedPending).toBe(16 * 512);
    // The walk visits every gfn's 4K rmap head: its cost is per page, not per region.
    expect(z.disable.counts[CostId.rmap_walk_ns]).toBe(16 * 262144);
  });

  it('shadow MMU: from 6.0 the rmap zap also walks the 2M rmaps (Matlack, "Zap collapsible SPTEs in shadow MMU at all possible levels")', () => {
    const vm = '-v 4 -b 1G -s anonymous_hugetlb_1gb --tdp-mmu off';
    const heads = (release: string) => strategy(run(`${vm} --kernel ${release}`), 'rmap-zap').disable.counts[CostId.rmap_walk_ns]!;
    expect(heads('5.19')).toBe(4 * 262144);
    expect(heads('6.0')).toBe(4 * 262144 + 4 * 512);
  });

  it('shadow MMU faults serialize on mmu_lock (direct_page_fault takes it for write)', () => {
    // -g: logging enabled with everything write-protected; iteration 1 splits every huge page on its first write and
    // faults the other pages in one by one, each on the slow path.
    const vm = '-v 32 -b 256M -s anonymous_hugetlb_2mb -g';
    const shadow = run(`${vm} --kernel 5.10 --strategy rmap-zap`);
    const tdp = run(`${vm} --kernel 5.15 --strategy zap-leaf`);
    const slow = 32 * 65536; // every page: one split fault per 2M page, a not-present fault for each other page
    const lockNs = slow * costs.shadow_fault_locked_ns;
    expect(shadow.iterations[0]!.dirty.ns).toBeGreaterThanOrEqual(lockNs);
    expect(shadow.iterations[0]!.dirty.counts[CostId.shadow_fault_locked_ns]).toBe(slow);
    // The TDP MMU takes the same faults under the read lock, in parallel: one vCPU's share of them.
    expect(tdp.iterations[0]!.dirty.ns).toBeLessThan(lockNs / 4);
    expect(tdp.iterations[0]!.dirty.counts[CostId.shadow_fault_locked_ns]).toBe(0);
  });

  it('shadow MMU: enable without initially-set walks the rmaps of every gfn at every level (kvm_mmu_slot_remove_write_access)', () => {
    const shadow = run('-v 8 -b 1G -s anonymous_hugetlb_1gb -g --kernel 5.10 --strategy rmap-zap');
    const pages = 8 * 262144;
    expect(shadow.enable.counts[CostId.rmap_walk_ns]).toBe(pages + pages / 512 + pages / 262144);
    expect(shadow.enable.ns).toBeGreaterThan(costs.memslot_update_ns + pages * costs.rmap_walk_ns);
  });
});

describe('release code paths of the TDP MMU', () => {
  it('split on fault in place from 6.2 (c4b33d28ea51): no not-present refaults of the split page\'s neighbours', () => {
    // Published (c4b33d28ea51, 96 vCPUs, eager split off): 5 % writes 3.017 s → 0.0626 s, 100 % writes 2.681 s → 0.674 s.
    const vm = '-v 96 -b 1G -s anonymous_hugetlb_1gb --eager-split off --strategy promote';
    for (const [w, published] of [[5, 3.017 / 0.0626], [100, 2.681 / 0.674]] as const) {
      const before = run(`${vm} -w ${w} --kernel 6.1`);
      const after = run(`${vm} -w ${w} --kernel 6.2`);
      const split = (r: DirtyLogPerfRun) => r.strategies[0]!.stats.faults;
      expect(split(before).not_present).toBeGreaterThan(96 * 262144 * 0.99);
      expect(split(after).not_present).toBe(96); // populate only
      expect(split(after).split_on_fault).toBe(96 * 512); // 1G → 2M in place, then each written 2M → 4K
      const speedup = before.iterations[1]!.dirty.ns / after.iterations[1]!.dirty.ns;
      // At least the published speedup; with 100 % writes the model is faster still, because it charges the first
      // write to a write-protected child as PML-logged rather than as a fast page fault (GLOSSARY, difference 4).
      expect(speedup).toBeGreaterThan(published * 0.8);
    }
  });

  it('5.19 zaps per region but walks leaves (5ba7c4c6d1c7); 6.0 stops at 2M (85f44f8cc07b)', () => {
    const vm = '-v 8 -b 1G -s anonymous_hugetlb_2mb --strategy zap';
    const r519 = strategy(run(`${vm} --kernel 5.19`), 'zap');
    const r60 = strategy(run(`${vm} --kernel 6.0`), 'zap');
    for (const z of [r519, r60]) {
      expect(z.disableStats.tlbFlushes).toBe(8 * 512);
      expect(z.disableStats.sptesZapped).toBe(8 * 512);
    }
    // 5.19 steps down to a leaf and back up (tdp_iter_step_up) for each region it zaps.
    expect(r519.disable.counts[CostId.spte_walk_ns]! - r60.disable.counts[CostId.spte_walk_ns]!).toBe(8 * 512);
    // On 4K-backed memory nothing is collapsible, and 5.19 still reads every leaf.
    const small519 = strategy(run('-v 2 -b 1G -s anonymous --strategy zap --kernel 5.19'), 'zap');
    const small60 = strategy(run('-v 2 -b 1G -s anonymous --strategy zap --kernel 6.0'), 'zap');
    expect(small519.disable.counts[CostId.spte_walk_ns]! - small60.disable.counts[CostId.spte_walk_ns]!).toBe(2 * 262144);
  });

  it('zap-leaf batches its flushes under the write lock in 5.10 - 5.12 and flushes per leaf from 5.13 (2db6f772b530)', () => {
    const vm = '-v 8 -b 1G -s anonymous_hugetlb_2mb --tdp-mmu on --strategy zap-leaf';
    const batched = strategy(run(`${vm} --kernel 5.12`), 'zap-leaf');
    const perLeaf = strategy(run(`${vm} --kernel 5.13`), 'zap-leaf');
    expect(batched.disableStats.tlbFlushes).toBe(batched.disableStats.yields + 1);
    expect(batched.disableStats.mmuLockReadNs).toBe(0);
    expect(perLeaf.disableStats.tlbFlushes).toBe(8 * 262144);
    expect(perLeaf.disableStats.mmuLockWriteNs).toBe(0);
  });

  it('TDP fast page fault from 5.15 (6e8eb2060cc7) and eager split from 5.18 (a3fe5dbda0a4), as the release defaults', () => {
    const wp = (args: string) => run(`-v 2 -b 256M --pml off --strategy zap ${args}`).strategies[0]!.stats.faults;
    expect(wp('--kernel 5.14 --tdp-mmu on').slow_wp).toBeGreaterThan(0);
    expect(wp('--kernel 5.14 --tdp-mmu on').fast).toBe(0);
    expect(wp('--kernel 5.15').fast).toBeGreaterThan(0);
    expect(wp('--kernel 5.15').slow_wp).toBe(0);
    const split = (release: string) => run(`-v 2 -b 1G -s anonymous_hugetlb_1gb -g --kernel ${release} --strategy zap`).enable.counts[CostId.split_child_spte_ns]!;
    expect(split('5.17')).toBe(0);
    expect(split('5.18')).toBe(2 * (512 + 262144));
  });
});
