import { formatTimespec } from '../../common/units.js';
import { FAULT_KINDS } from '../mmu/fault-kind.js';
import type { KvmHost } from '../host/kvm-host.js';
import type { MmuStats } from '../mmu/mmu-stats.js';
import { PROMOTE_BAILOUTS } from '../mmu/promote-bailout.js';
import type { DisableStrategy } from '../mmu/disable-strategy.js';
import type { DirtyLogPerfRun, StrategyRun } from './dirty-log-perf.js';

const s = (ns: number): number => ns / 1e9;

/** The selftest's output, once per strategy, followed by the model's counters. */
export function formatDirtyLogPerfText(run: DirtyLogPerfRun): string {
  const p = run.params;
  const lines: string[] = [];
  for (const st of run.strategies) {
    lines.push(`== strategy: ${st.strategy} ==`);
    lines.push(`Test iterations: ${p.iterations}`);
    lines.push('Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages');
    lines.push(`guest physical test memory: [0x${run.guestPhysRange[0].toString(16)}, 0x${run.guestPhysRange[1].toString(16)})`);
    lines.push(`Populate memory time: ${formatTimespec(s(run.populate.ns))}`);
    lines.push(`Enabling dirty logging time: ${formatTimespec(s(run.enable.ns))}`);
    lines.push('');
    let getTotal = 0;
    let clearTotal = 0;
    run.iterations.forEach((it, i) => {
      lines.push(`Iteration ${i + 1} dirty memory time: ${formatTimespec(s(it.dirty.ns))}`);
      lines.push(`Iteration ${i + 1} get dirty log time: ${formatTimespec(s(it.get.ns))}`);
      getTotal += it.get.ns;
      if (it.clear) {
        lines.push(`Iteration ${i + 1} clear dirty log time: ${formatTimespec(s(it.clear.ns))}`);
        clearTotal += it.clear.ns;
      }
    });
    lines.push(`Disabling dirty logging time: ${formatTimespec(s(st.disable.ns))}`);
    const n = p.iterations;
    lines.push(`Get dirty log over ${n} iterations took ${formatTimespec(s(getTotal))}. (Avg ${formatTimespec(s(getTotal / n))}/iteration)`);
    if (p.manualProtect) {
      lines.push(`Clear dirty log over ${n} iterations took ${formatTimespec(s(clearTotal))}. (Avg ${formatTimespec(s(clearTotal / n))}/iteration)`);
    }
    lines.push(...counterLines(st, p.kernel));
    lines.push('');
  }
  return lines.join('\n');
}

const yn = (b: boolean): string => (b ? 'Y' : 'N');

/** The host's KVM as module parameters read (`/sys/module/kvm/parameters/...`). */
function kernelLine(k: KvmHost): string {
  return `Kernel: ${k.release} on ${k.cpu}: tdp_mmu=${yn(k.tdpMmu)} nx_huge_pages=${yn(k.nxHugePages)} eager_page_split=${yn(k.eagerPageSplit)} pml=${yn(k.pml)} fast_page_fault=${yn(k.fastPageFault)}`;
}

function counterLines(st: StrategyRun, kernel: KvmHost): string[] {
  const d = st.disableStats;
  const w = st.stats;
  const faults = (x: MmuStats) => FAULT_KINDS.map((k) => `${k} ${x.faults[k]}`).join(', ');
  return [
    kernelLine(kernel),
    `Remote TLB flushes: ${w.tlbFlushes} (during disable: ${d.tlbFlushes})`,
    `Page faults: ${w.totalFaults} (${faults(w)})`,
    `Page faults during disable: ${d.totalFaults} (${faults(d)})`,
    `PML-logged writes: ${w.pmlLoggedWrites}`,
    `SPTEs zapped: ${w.sptesZapped} (during disable: ${d.sptesZapped}); child SPTEs torn down: ${w.childSptesTornDown}`,
    `Huge pages promoted: ${w.hugePagesPromoted}`,
    `Promotion bail-outs: ${PROMOTE_BAILOUTS.map((k) => `${k} ${w.bailouts[k]}`).join(', ')}`,
    `Page-table pages freed: ${w.spFreed} (during disable: ${d.spFreed}); allocated: ${w.spAllocated}; left: ${st.ptPages}`,
    `Huge pages split: ${w.hugePagesSplit}`,
    `vCPU stall: ${formatTimespec(s(w.vcpuStallNs))} (during disable: ${formatTimespec(s(d.vcpuStallNs))})`,
    `mmu_lock held by the ioctl thread: read ${formatTimespec(s(w.mmuLockReadNs))}, write ${formatTimespec(s(w.mmuLockWriteNs))}`,
    `Mappings at the end: 4K ${st.pagesByLevel[0]}, 2M ${st.pagesByLevel[1]}, 1G ${st.pagesByLevel[2]}; collapsed regions awaiting refault: ${st.collapsedPending}`,
  ];
}

function statsJson(x: MmuStats) {
  return {
    tlb_flushes: x.tlbFlushes,
    page_faults: x.totalFaults,
    page_faults_by_kind: { ...x.faults },
    pml_logged_writes: x.pmlLoggedWrites,
    sptes_zapped: x.sptesZapped,
    child_sptes_torn_down: x.childSptesTornDown,
    huge_pages_promoted: x.hugePagesPromoted,
    promote_bailouts: { ...x.bailouts },
    huge_pages_split: x.hugePagesSplit,
    pt_pages_allocated: x.spAllocated,
    pt_pages_freed: x.spFreed,
    vcpu_stall_s: s(x.vcpuStallNs),
    mmu_lock_read_s: s(x.mmuLockReadNs),
    mmu_lock_write_s: s(x.mmuLockWriteNs),
  };
}

/** The host's KVM in effect, as module parameter names. */
function kernelJson(k: KvmHost) {
  return {
    release: k.release,
    cpu: k.cpu,
    tdp_mmu: k.tdpMmu,
    nx_huge_pages: k.nxHugePages,
    eager_page_split: k.eagerPageSplit,
    pml: k.pml,
    fast_page_fault: k.fastPageFault,
  };
}

/** One object per strategy, as documented in the README. Counters are over the whole run; `disable` holds the disable's own. */
export function dirtyLogPerfJson(run: DirtyLogPerfRun) {
  return run.strategies.map((st) => ({
    strategy: st.strategy,
    kernel: kernelJson(run.params.kernel),
    populate_s: s(run.populate.ns),
    enable_s: s(run.enable.ns),
    iterations: run.iterations.map((it) => ({ dirty_s: s(it.dirty.ns), get_s: s(it.get.ns), clear_s: it.clear ? s(it.clear.ns) : 0 })),
    disable_s: s(st.disable.ns),
    ...statsJson(st.stats),
    disable: statsJson(st.disableStats),
    mappings_at_end: { '4k': st.pagesByLevel[0], '2m': st.pagesByLevel[1], '1g': st.pagesByLevel[2] },
    pt_pages_at_end: st.ptPages,
    collapsed_regions_pending: st.collapsedPending,
    wall_s: (run.commonWallNs + st.wallNs) / 1e9,
  }));
}

/**
 * What glibc's `random()` returns first when nothing seeded it: the value `kvm_selftest_init()` (a constructor in
 * tools/testing/selftests/kvm/lib/kvm_util.c) prints as "Random seed: 0x%x" before `main()` runs.
 */
export const SELFTEST_CONSTRUCTOR_SEED = 0x6b8b4567;

/** `vm_guest_mode_string(VM_MODE_PXXV48_4K)` (lib/kvm_util.c), the one mode `guest_modes_append_default()` adds on x86. */
export const X86_GUEST_MODE = 'PA-bits:ANY, VA-bits:48,  4K pages';

/** The selftest's `%ld.%.9lds` of a whole number of nanoseconds. */
export function formatTimespecNs(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  return `${sec}.${String(ns - sec * 1e9).padStart(9, '0')}s`;
}

/**
 * Exactly what `dirty_log_perf_test` prints on x86 for one disable strategy, line for line, so that a user can diff it
 * against a real run (`migsim dirty-log-perf --format selftest`). No model counters.
 *
 * The lines and their order, from torvalds/linux's tools/testing/selftests/kvm (read at the tree mirrored as
 * Kingxukai/linux 0291023e7330da28f2f7453c87c2ab7082d8360f, a post-6.12 tree with memstress and the global guest seed):
 * - lib/kvm_util.c `kvm_selftest_init()` (constructor): "Random seed: 0x%x" of glibc's first `random()`;
 * - dirty_log_perf_test.c `main()`: "Test iterations: %"PRIu64;
 * - lib/memstress.c `memstress_create_vm()`: "Testing guest mode: %s" (`vm_guest_mode_string`), then
 *   lib/kvm_util.c `__vm_create()`: "Random seed: 0x%x" only if `-r` (default 1) differs from the constructor's seed,
 *   then memstress: "guest physical test memory: [0x%lx, 0x%lx)";
 * - dirty_log_perf_test.c `run_test()`: "Populate memory time: %ld.%.9lds", "Enabling dirty logging time: %ld.%.9lds"
 *   followed by an empty line, per iteration "Iteration %d dirty memory time", "Iteration %d get dirty log time" and,
 *   with manual protect (no `-g`), "Iteration %d clear dirty log time"; "Disabling dirty logging time";
 *   "Get dirty log over %lu iterations took %ld.%.9lds. (Avg %ld.%.9lds/iteration)" and, with manual protect, the same
 *   for "Clear dirty log". Totals are `timespec_add` sums of the printed times, averages `timespec_div` (truncating).
 */
export function formatDirtyLogPerfSelftest(run: DirtyLogPerfRun, strategy: DisableStrategy): string {
  const st = run.strategies.find((x) => x.strategy === strategy);
  if (!st) throw new Error(`formatDirtyLogPerfSelftest: the run has no '${strategy}' disable`);
  const p = run.params;
  const ns = (t: { readonly ns: number }): number => Math.round(t.ns);
  const ts = (t: { readonly ns: number }): string => formatTimespecNs(ns(t));
  const lines: string[] = [];
  lines.push(`Random seed: 0x${SELFTEST_CONSTRUCTOR_SEED.toString(16)}`);
  lines.push(`Test iterations: ${p.iterations}`);
  lines.push(`Testing guest mode: ${X86_GUEST_MODE}`);
  if (p.seed !== SELFTEST_CONSTRUCTOR_SEED) lines.push(`Random seed: 0x${(p.seed >>> 0).toString(16)}`);
  lines.push(`guest physical test memory: [0x${run.guestPhysRange[0].toString(16)}, 0x${run.guestPhysRange[1].toString(16)})`);
  lines.push(`Populate memory time: ${ts(run.populate)}`);
  lines.push(`Enabling dirty logging time: ${ts(run.enable)}`);
  lines.push('');
  let getTotal = 0;
  let clearTotal = 0;
  run.iterations.forEach((it, i) => {
    lines.push(`Iteration ${i + 1} dirty memory time: ${ts(it.dirty)}`);
    lines.push(`Iteration ${i + 1} get dirty log time: ${ts(it.get)}`);
    getTotal += ns(it.get);
    if (p.manualProtect && it.clear) {
      lines.push(`Iteration ${i + 1} clear dirty log time: ${ts(it.clear)}`);
      clearTotal += ns(it.clear);
    }
  });
  lines.push(`Disabling dirty logging time: ${ts(st.disable)}`);
  const n = p.iterations;
  const summary = (what: string, total: number): string =>
    `${what} dirty log over ${n} iterations took ${formatTimespecNs(total)}. (Avg ${formatTimespecNs(Math.floor(total / n))}/iteration)`;
  lines.push(summary('Get', getTotal));
  if (p.manualProtect) lines.push(summary('Clear', clearTotal));
  return lines.join('\n') + '\n';
}
