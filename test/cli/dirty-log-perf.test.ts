import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKING_SOURCES } from '../../shared/src/kernel/mmu/backing-source.js';
import { COST_KEYS } from '../../shared/src/kernel/mmu/cost-profile.js';
import { DISABLE_STRATEGIES } from '../../shared/src/kernel/mmu/disable-strategy.js';
import { PROMOTE_BAILOUTS } from '../../shared/src/kernel/mmu/promote-bailout.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real command, `node shared/bin/migsim.mjs ...args`, from the repository root. */
function migsim(...args: string[]): Result {
  const env = { ...process.env };
  delete env.MIGSIM_DEBUG;
  const r = spawnSync(process.execPath, ['shared/bin/migsim.mjs', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cache = new Map<string, Result>();
/** migsim(), memoized for the runs several tests look at. */
function migsimCached(...args: string[]): Result {
  const k = JSON.stringify(args);
  let r = cache.get(k);
  if (!r) {
    r = migsim(...args);
    cache.set(k, r);
  }
  return r;
}

function ok(r: Result): string {
  expect(r.stderr, 'stderr of a successful run').toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const STACK_LINE = /\n\s+at /;

// ---------------------------------------------------------------------------------------------------------------
// JSON output shape

interface IterationJson {
  dirty_s: number;
  get_s: number;
  clear_s: number;
}
interface StrategyJson {
  strategy: string;
  populate_s: number;
  enable_s: number;
  iterations: IterationJson[];
  disable_s: number;
  tlb_flushes: number;
  page_faults: number;
  page_faults_by_kind: Record<string, number>;
  sptes_zapped: number;
  huge_pages_promoted: number;
  promote_bailouts: Record<string, number>;
  pt_pages_freed: number;
  vcpu_stall_s: number;
  wall_s: number;
  disable: Record<string, unknown>;
  [k: string]: unknown;
}

function runJson(...args: string[]): StrategyJson[] {
  const text = ok(migsimCached('dirty-log-perf', ...args, '--json'));
  const parsed: unknown = JSON.parse(text);
  expect(Array.isArray(parsed)).toBe(true);
  return parsed as StrategyJson[];
}

/** The JSON without the real-time field, which is the only one allowed to differ between identical runs. */
function withoutWall(runs: readonly StrategyJson[]): unknown[] {
  return runs.map((r) => {
    const copy: Record<string, unknown> = { ...r };
    delete copy.wall_s;
    return copy;
  });
}

const isSeconds = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isCount = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function expectStrategyShape(o: StrategyJson, iterations: number): void {
  expect(typeof o.strategy).toBe('string');
  for (const k of ['populate_s', 'enable_s', 'disable_s', 'vcpu_stall_s', 'wall_s'] as const) expect(isSeconds(o[k]), `${k} = ${String(o[k])}`).toBe(true);
  for (const k of ['tlb_flushes', 'page_faults', 'sptes_zapped', 'huge_pages_promoted', 'pt_pages_freed'] as const) {
    expect(isCount(o[k]), `${k} = ${String(o[k])}`).toBe(true);
  }
  expect(Array.isArray(o.iterations)).toBe(true);
  expect(o.iterations).toHaveLength(iterations);
  for (const it of o.iterations) {
    expect(Object.keys(it).sort()).toEqual(['clear_s', 'dirty_s', 'get_s']);
    expect(isSeconds(it.dirty_s) && isSeconds(it.get_s) && isSeconds(it.clear_s)).toBe(true);
  }
  expect(typeof o.page_faults_by_kind).toBe('object');
  const kinds = Object.values(o.page_faults_by_kind);
  expect(kinds.length).toBeGreaterThan(0);
  for (const n of kinds) expect(isCount(n)).toBe(true);
  expect(kinds.reduce((a, b) => a + b, 0), 'page_faults is the sum of page_faults_by_kind').toBe(o.page_faults);
  expect(Object.keys(o.promote_bailouts).sort()).toEqual([...PROMOTE_BAILOUTS].sort());
  for (const n of Object.values(o.promote_bailouts)) expect(isCount(n)).toBe(true);
}

/** The seconds printed on the first line starting with `label` (the selftest's `%ld.%09lds`). */
function secondsOn(text: string, label: string): number {
  const line = text.split('\n').find((l) => l.startsWith(label));
  expect(line, `a line starting with '${label}'`).toBeDefined();
  const m = /(\d+\.\d{9})s/.exec(line!.slice(label.length));
  expect(m, line).not.toBeNull();
  return Number(m![1]);
}

// ---------------------------------------------------------------------------------------------------------------

describe('migsim --help', () => {
  it('migsim --help lists both commands', () => {
    const out = ok(migsim('--help'));
    expect(out).toMatch(/Usage: migsim/);
    expect(out).toMatch(/dirty-log-perf/);
    expect(out).toMatch(/\bprofile\b/);
  });

  it('migsim dirty-log-perf --help mentions every flag', () => {
    const out = ok(migsim('dirty-log-perf', '--help'));
    expect(out).toMatch(/Usage: migsim dirty-log-perf/);
    for (const flag of ['-v', '-b', '-i', '-s', '-e', '-g', '-w', '-a', '-x', '-r', '--strategy', '--kernel', '--cpu', '--tdp-mmu', '--nx-huge-pages', '--eager-split', '--pml', '--fast-page-fault', '--profile', '--json']) {
      expect(out, flag).toMatch(new RegExp(`(^|\\s)${flag}(\\s|,|$)`, 'm'));
    }
    for (const b of BACKING_SOURCES) expect(out).toContain(b);
    for (const s of DISABLE_STRATEGIES) expect(out).toContain(s);
  });

  it('migsim profile --help mentions its flags', () => {
    const out = ok(migsim('profile', '--help'));
    expect(out).toMatch(/Usage: migsim profile/);
    for (const flag of ['--profile', '--json']) expect(out, flag).toMatch(new RegExp(`(^|\\s)${flag}(\\s|,|$)`, 'm'));
  });
});

describe('migsim usage errors', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'migsim-cli-'));
    writeFileSync(join(dir, 'unknown-key.json'), JSON.stringify({ costs: { nosuch_cost_ns: 5 } }));
    writeFileSync(join(dir, 'negative.json'), JSON.stringify({ costs: { ioctl_ns: -1 } }));
    writeFileSync(join(dir, 'not-json.json'), 'this is not json');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A bad value: status 2, nothing on stdout, one message naming the flag and what it accepts, no stack trace. */
  function expectUsageError(args: string[], flag: string, mentions: readonly string[]): void {
    const r = migsim(...args);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${flag}:`);
    for (const m of mentions) expect(r.stderr, `message for ${args.join(' ')} mentions ${m}`).toContain(m);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toMatch(/internal error/);
  }

  it.each([
    [['-w', '101'], '-w', ['0', '100', '101']],
    [['-w', 'half'], '-w', ['0', '100']],
    [['-s', 'foo'], '-s', ['foo', ...BACKING_SOURCES]],
    [['--strategy', 'zap,bogus'], '--strategy', ['bogus', ...DISABLE_STRATEGIES]],
    [['--strategy', ''], '--strategy', [...DISABLE_STRATEGIES]],
    [['--eager-split', 'maybe'], '--eager-split', ["'on'", "'off'", 'maybe']],
    [['--pml', 'yes'], '--pml', ["'on'", "'off'"]],
    [['-b', '1000'], '-b', ['4KiB', '1000']],
    [['-b', 'lots'], '-b', ['4KiB', 'lots']],
    [['-i', '1'], '-i', ['2']],
    [['-v', '0'], '-v', ['1', '4096']],
    [['-r', '-1'], '-r', ['0']],
    [['--thp-coverage', '2'], '--thp-coverage', ['0', '1']],
    [['--bailout', 'nope=0.5'], '--bailout', ['nope', ...PROMOTE_BAILOUTS]],
    [['-v', '1', '-b', '64M', '-x', '3'], '-x', ['3', 'evenly']],
    [['-v', '1', '-b', '64M', '-s', 'anonymous_hugetlb_1gb'], '-b', ['anonymous_hugetlb_1gb']],
    [['--profile', 'nosuch'], '--profile', ['nosuch', 'default', '.json']],
    [['--kernel', '4.19'], '--kernel', ['4.19', '5.10', '6.19']],
    [['--kernel', 'latest'], '--kernel', ['latest', 'MAJOR.MINOR']],
    [['--cpu', 'm1'], '--cpu', ['skylake', 'epyc']],
    [['--tdp-mmu', 'maybe'], '--tdp-mmu', ["'on'", "'off'"]],
    [['--nx-huge-pages', 'auto'], '--nx-huge-pages', ["'on'", "'off'"]],
    [['--kernel', '5.15', '--eager-split', 'on'], '--eager-split', ['5.15']],
    [['--cpu', 'epyc', '--pml', 'on'], '--pml', ['epyc']],
    [['--strategy', 'rmap-zap'], '--strategy', ['rmap-zap', 'shadow', '--tdp-mmu off']],
    [['--tdp-mmu', 'off', '--strategy', 'zap,promote'], '--strategy', ['zap, promote', 'TDP', '--tdp-mmu on']],
  ] as const)('dirty-log-perf %j exits 2 naming %s and what it accepts', (args, flag, mentions) => {
    expectUsageError(['dirty-log-perf', ...args], flag, mentions);
  });

  it('--profile with a JSON file holding an unknown cost key names the key', () => {
    expectUsageError(['dirty-log-perf', '--profile', join(dir, 'unknown-key.json')], '--profile', ['nosuch_cost_ns']);
    expectUsageError(['profile', '--profile', join(dir, 'unknown-key.json')], '--profile', ['nosuch_cost_ns']);
  });

  it('--profile with a JSON file holding a negative cost names the cost and the bound', () => {
    const file = join(dir, 'negative.json');
    expectUsageError(['dirty-log-perf', '--profile', file], '--profile', ['ioctl_ns']);
    expect(migsim('dirty-log-perf', '--profile', file).stderr).toMatch(/>=\s*0|non-?negative/);
    expectUsageError(['profile', '--profile', file], '--profile', ['ioctl_ns']);
  });

  it('--profile with an unreadable or malformed file names the file', () => {
    expectUsageError(['dirty-log-perf', '--profile', join(dir, 'not-json.json')], '--profile', ['not-json.json']);
    expectUsageError(['dirty-log-perf', '--profile', join(dir, 'missing.json')], '--profile', ['missing.json']);
  });

  it('an unknown option or command exits 2 without a stack trace', () => {
    for (const args of [['dirty-log-perf', '--nope'], ['profile', '--nope'], ['nosuchcommand']]) {
      const r = migsim(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(args[args.length - 1]!);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });
});

describe('migsim dirty-log-perf --json', () => {
  const ARGS = ['-v', '2', '-b', '64M', '-s', 'anonymous_hugetlb_2mb'] as const;

  it('prints one object per strategy, in the default order, with the documented keys and types', () => {
    const runs = runJson(...ARGS);
    expect(runs.map((r) => r.strategy)).toEqual(['zap-leaf', 'zap', 'zap-batched', 'promote']);
    for (const r of runs) expectStrategyShape(r, 2);
  });

  it('shares the phases before the disable between strategies and runs each disable from the same state', () => {
    const runs = runJson(...ARGS);
    const first = runs[0]!;
    for (const r of runs) {
      expect(r.populate_s).toBe(first.populate_s);
      expect(r.enable_s).toBe(first.enable_s);
      expect(r.iterations).toEqual(first.iterations);
      expect(r.disable_s).toBeGreaterThan(0);
    }
  });

  it('promotes every 2M region with promote and zaps them with the zap strategies', () => {
    // 2 vCPUs × 64 MiB on 2 MiB hugetlb = 64 regions, all written, so all split while logged and all collapsible.
    const regions = (2 * 64) / 2;
    const by = Object.fromEntries(runJson(...ARGS).map((r) => [r.strategy, r]));
    expect(by.promote!.huge_pages_promoted).toBe(regions);
    expect(by.promote!.page_faults_by_kind.not_present).toBeGreaterThanOrEqual(regions);
    for (const s of ['zap-leaf', 'zap', 'zap-batched']) {
      expect(by[s]!.huge_pages_promoted, s).toBe(0);
      expect(by[s]!.sptes_zapped, s).toBeGreaterThanOrEqual(regions);
    }
    // Flushes during the disable: one per leaf zap >= one per zapped table >= batched; promotion flushes batched too.
    const flushes = (s: string) => (by[s]!.disable as { tlb_flushes: number }).tlb_flushes;
    expect(flushes('zap-leaf')).toBeGreaterThanOrEqual(flushes('zap'));
    expect(flushes('zap')).toBeGreaterThanOrEqual(regions);
    expect(flushes('zap')).toBeGreaterThan(flushes('zap-batched'));
    expect(flushes('zap-batched')).toBeGreaterThanOrEqual(1);
    expect(flushes('promote')).toBeLessThanOrEqual(flushes('zap'));
  });

  it('--strategy selects a subset, in the order given, without duplicates; -i sets the iteration count', () => {
    const runs = runJson('-v', '1', '-b', '16M', '-i', '3', '--strategy', 'promote,zap,promote');
    expect(runs.map((r) => r.strategy)).toEqual(['promote', 'zap']);
    for (const r of runs) expectStrategyShape(r, 3);
  });

  it('is deterministic: the same command gives identical JSON apart from wall_s', () => {
    const a = runJson(...ARGS);
    const b = JSON.parse(ok(migsim('dirty-log-perf', ...ARGS, '--json'))) as StrategyJson[];
    expect(withoutWall(b)).toEqual(withoutWall(a));
  });

  it('a different -r changes the result of random access (-a) and of partial writes (-w 50)', () => {
    const base = ['-v', '1', '-b', '16M', '--strategy', 'promote'];
    expect(withoutWall(runJson(...base, '-a', '-r', '1'))).not.toEqual(withoutWall(runJson(...base, '-a', '-r', '2')));
    expect(withoutWall(runJson(...base, '-w', '50', '-r', '1'))).not.toEqual(withoutWall(runJson(...base, '-w', '50', '-r', '2')));
    // A sequential pass writing every page draws nothing: the seed does not matter.
    expect(withoutWall(runJson(...base, '-r', '1'))).toEqual(withoutWall(runJson(...base, '-r', '2')));
  });

  it('-g (no manual protect) reports no CLEAR time', () => {
    const runs = runJson('-v', '1', '-b', '16M', '-g', '--strategy', 'promote');
    expectStrategyShape(runs[0]!, 2);
    for (const it of runs[0]!.iterations) expect(it.clear_s).toBe(0);
  });

  it('disable counters are never negative and never exceed the whole-run counters (mmu_lock hold times)', () => {
    for (const r of runJson(...ARGS)) {
      for (const [k, v] of Object.entries(r.disable)) {
        if (typeof v !== 'number') continue;
        expect(v, `${r.strategy}: disable.${k}`).toBeGreaterThanOrEqual(0);
        expect(v, `${r.strategy}: disable.${k} <= ${k}`).toBeLessThanOrEqual(r[k] as number);
      }
      // CLEAR_DIRTY_LOG takes mmu_lock for write in every iteration.
      expect(r.mmu_lock_write_s as number, r.strategy).toBeGreaterThan(0);
    }
  });
});

describe('kernel releases as flags (--kernel, --cpu, --tdp-mmu, --nx-huge-pages)', () => {
  it('--strategy defaults to every strategy of the MMU in effect: the shadow MMU has one', () => {
    expect(runJson('-v', '2', '-b', '64M', '--kernel', '5.10').map((r) => r.strategy)).toEqual(['rmap-zap']);
    expect(runJson('-v', '2', '-b', '64M', '--kernel', '5.10', '--tdp-mmu', 'on').map((r) => r.strategy)).toEqual(['zap-leaf', 'zap', 'zap-batched', 'promote']);
    const k = runJson('-v', '2', '-b', '64M', '--kernel', '6.6', '--cpu', 'epyc', '--tdp-mmu', 'off')[0]!.kernel;
    expect(k).toEqual({ release: '6.6', cpu: 'epyc', tdp_mmu: false, nx_huge_pages: false, eager_page_split: false, pml: false, fast_page_fault: true });
  });

  it('must show: with NX huge pages on, 5.15\'s zap-leaf with running vCPUs costs over 10x the disable without, and no 1 GiB page comes back', () => {
    const vm = ['-v', '96', '-b', '1G', '-s', 'anonymous_hugetlb_1gb', '-e', '--strategy', 'zap-leaf', '--kernel', '5.15'];
    const on = runJson(...vm, '--nx-huge-pages', 'on')[0]!;
    const off = runJson(...vm, '--nx-huge-pages', 'off')[0]!;
    expect(on.disable_s / off.disable_s).toBeGreaterThan(10);
    expect(on.mappings_at_end).toEqual({ '4k': expect.any(Number), '2m': 0, '1g': 0 });
    expect(off.mappings_at_end).toEqual({ '4k': 0, '2m': 0, '1g': 96 });
    // The text output says the same.
    const text = ok(migsimCached('dirty-log-perf', ...vm, '--nx-huge-pages', 'on'));
    expect(text).toMatch(/Mappings at the end: 4K \d+, 2M 0, 1G 0/);
    expect(text).toContain('Kernel: 5.15 on skylake: tdp_mmu=Y nx_huge_pages=Y eager_page_split=N');
  }, 60_000);
});

describe('migsim dirty-log-perf text output', () => {
  const ARGS = ['dirty-log-perf', '-v', '2', '-b', '64M', '-s', 'anonymous_hugetlb_2mb'] as const;

  it('prints the selftest lines for every strategy', () => {
    const out = ok(migsimCached(...ARGS));
    const blocks = out.split(/^== strategy: /m).slice(1);
    expect(blocks.map((b) => b.slice(0, b.indexOf(' ')))).toEqual(['zap-leaf', 'zap', 'zap-batched', 'promote']);
    const ts = String.raw`\d+\.\d{9}s`;
    for (const block of blocks) {
      for (const re of [
        `^Populate memory time: ${ts}$`,
        `^Enabling dirty logging time: ${ts}$`,
        `^Iteration 1 dirty memory time: ${ts}$`,
        `^Iteration 1 get dirty log time: ${ts}$`,
        `^Iteration 1 clear dirty log time: ${ts}$`,
        `^Iteration 2 dirty memory time: ${ts}$`,
        `^Iteration 2 get dirty log time: ${ts}$`,
        `^Iteration 2 clear dirty log time: ${ts}$`,
        `^Disabling dirty logging time: ${ts}$`,
        `^Get dirty log over 2 iterations took ${ts}\\. \\(Avg ${ts}/iteration\\)$`,
        `^Clear dirty log over 2 iterations took ${ts}\\. \\(Avg ${ts}/iteration\\)$`,
      ]) {
        expect(block, re).toMatch(new RegExp(re, 'm'));
      }
      expect(block).not.toMatch(/^Iteration 3 /m);
    }
  });

  it('prints the same times as --json', () => {
    const text = ok(migsimCached(...ARGS));
    const runs = runJson(...ARGS.slice(1));
    const blocks = text.split(/^== strategy: /m).slice(1);
    blocks.forEach((block, i) => {
      const r = runs[i]!;
      expect(Math.abs(secondsOn(block, 'Populate memory time:') - r.populate_s)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(secondsOn(block, 'Enabling dirty logging time:') - r.enable_s)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(secondsOn(block, 'Disabling dirty logging time:') - r.disable_s)).toBeLessThanOrEqual(1e-9);
      r.iterations.forEach((it, k) => {
        expect(Math.abs(secondsOn(block, `Iteration ${k + 1} dirty memory time:`) - it.dirty_s)).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(secondsOn(block, `Iteration ${k + 1} get dirty log time:`) - it.get_s)).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(secondsOn(block, `Iteration ${k + 1} clear dirty log time:`) - it.clear_s)).toBeLessThanOrEqual(1e-9);
      });
      const getTotal = r.iterations.reduce((a, it) => a + it.get_s, 0);
      const clearTotal = r.iterations.reduce((a, it) => a + it.clear_s, 0);
      expect(Math.abs(secondsOn(block, 'Get dirty log over 2 iterations took') - getTotal)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(secondsOn(block, 'Clear dirty log over 2 iterations took') - clearTotal)).toBeLessThanOrEqual(1e-9);
    });
  });

  it('is deterministic: the same command prints byte-identical text', () => {
    const a = ok(migsimCached(...ARGS));
    const b = ok(migsim(...ARGS));
    expect(b).toBe(a);
  });

  it('with -g there are no clear lines', () => {
    const out = ok(migsim('dirty-log-perf', '-v', '1', '-b', '16M', '-g'));
    expect(out.match(/^== strategy: /gm)).toHaveLength(4);
    expect(out).toMatch(/^Iteration 1 get dirty log time: /m);
    expect(out).toMatch(/^Get dirty log over 2 iterations took /m);
    expect(out).toMatch(/^Disabling dirty logging time: /m);
    expect(out).not.toMatch(/clear dirty log time/i);
    expect(out).not.toMatch(/^Clear dirty log over/m);
  });
});

describe('migsim dirty-log-perf --format selftest', () => {
  const ts = String.raw`\d+\.\d{9}s`;
  /** The lines dirty_log_perf_test prints on x86 (dirty_log_perf_test.c run_test/main, lib/memstress.c, lib/kvm_util.c). */
  const expected = (iterations: number, manual: boolean, seed: string | null): string[] => [
    '^Random seed: 0x6b8b4567$',
    `^Test iterations: ${iterations}$`,
    '^Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages$',
    ...(seed === null ? [] : [`^Random seed: ${seed}$`]),
    String.raw`^guest physical test memory: \[0x[0-9a-f]+, 0x[0-9a-f]+\)$`,
    `^Populate memory time: ${ts}$`,
    `^Enabling dirty logging time: ${ts}$`,
    '^$',
    ...Array.from({ length: iterations }, (_, k) => [
      `^Iteration ${k + 1} dirty memory time: ${ts}$`,
      `^Iteration ${k + 1} get dirty log time: ${ts}$`,
      ...(manual ? [`^Iteration ${k + 1} clear dirty log time: ${ts}$`] : []),
    ]).flat(),
    `^Disabling dirty logging time: ${ts}$`,
    `^Get dirty log over ${iterations} iterations took ${ts}\\. \\(Avg ${ts}/iteration\\)$`,
    ...(manual ? [`^Clear dirty log over ${iterations} iterations took ${ts}\\. \\(Avg ${ts}/iteration\\)$`] : []),
  ];
  const linesOf = (out: string): string[] => out.replace(/\n$/, '').split('\n');

  it('prints exactly the selftest\'s lines, in order, for the strategy in effect, without model counters', () => {
    const out = ok(migsim('dirty-log-perf', '-v', '2', '-b', '64M', '-i', '3', '--format', 'selftest'));
    const lines = linesOf(out);
    const res = expected(3, true, '0x1');
    expect(lines).toHaveLength(res.length);
    lines.forEach((l, k) => expect(l, `line ${k + 1}`).toMatch(new RegExp(res[k]!)));
    expect(out).not.toMatch(/strategy|Kernel:|TLB|faults|SPTE/);
  });

  it('with -g and -r: no clear lines, the seed in hex', () => {
    const lines = linesOf(ok(migsim('dirty-log-perf', '-b', '16M', '-g', '-r', '26', '--format', 'selftest', '--strategy', 'promote')));
    const res = expected(2, false, '0x1a');
    expect(lines).toHaveLength(res.length);
    lines.forEach((l, k) => expect(l, `line ${k + 1}`).toMatch(new RegExp(res[k]!)));
  });

  it('prints the times of --json for that strategy, and totals that are the sums of the printed times', () => {
    const out = ok(migsim('dirty-log-perf', '-b', '32M', '--format', 'selftest', '--strategy', 'zap'));
    const [r] = runJson('-b', '32M', '--strategy', 'zap');
    expect(Math.abs(secondsOn(out, 'Disabling dirty logging time:') - r!.disable_s)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(secondsOn(out, 'Iteration 2 clear dirty log time:') - r!.iterations[1]!.clear_s)).toBeLessThanOrEqual(1e-9);
    const sum = secondsOn(out, 'Iteration 1 get dirty log time:') + secondsOn(out, 'Iteration 2 get dirty log time:');
    expect(Math.abs(secondsOn(out, 'Get dirty log over 2 iterations took') - sum)).toBeLessThanOrEqual(1e-12);
  });

  it('--format text is the default; --format json is --json; conflicting or unknown formats are usage errors', () => {
    expect(ok(migsimCached('dirty-log-perf', '-b', '16M', '--format', 'text'))).toBe(ok(migsimCached('dirty-log-perf', '-b', '16M')));
    const a = JSON.parse(ok(migsim('dirty-log-perf', '-b', '16M', '--format', 'json'))) as { wall_s?: number }[];
    const b = JSON.parse(ok(migsim('dirty-log-perf', '-b', '16M', '--json'))) as { wall_s?: number }[];
    for (const o of [...a, ...b]) delete o.wall_s;
    expect(a).toEqual(b);
    for (const [args, re] of [
      [['--format', 'yaml'], /--format: must be one of text, selftest, json/],
      [['--format', 'selftest', '--json'], /--json and --format selftest/],
      [['--format', 'selftest', '--strategy', 'zap,promote'], /--format selftest prints one run .* --strategy names 2/],
    ] as const) {
      const r = migsim('dirty-log-perf', '-b', '16M', ...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });
});

describe('migsim profile', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'migsim-profile-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface ProfileJson {
    name: string;
    costs: { name: string; value: number; unit: string; what: string; source: string }[];
    params: Record<string, number>;
  }

  it('--json lists every cost once, each with a source that is a fitted point or an assumption', () => {
    const p = JSON.parse(ok(migsim('profile', '--json'))) as ProfileJson;
    expect(p.name).toBe('default');
    expect(p.costs.map((c) => c.name).sort()).toEqual([...COST_KEYS].sort());
    for (const c of p.costs) {
      expect(c.source.startsWith('fitted to point') || c.source.startsWith('assumption:'), `${c.name}: ${c.source}`).toBe(true);
      expect(c.source.length, c.name).toBeGreaterThan('assumption: '.length);
      expect(Number.isFinite(c.value) && c.value >= 0, c.name).toBe(true);
      expect(['ns', 'ns/KiB', 'ns/MiB']).toContain(c.unit);
      expect(c.what.length).toBeGreaterThan(0);
    }
    expect(p.costs.some((c) => c.source.startsWith('fitted to point'))).toBe(true);
    expect(p.params.cond_resched_interval_ns).toBeGreaterThan(0);
  });

  it('the text listing shows every cost', () => {
    const out = ok(migsim('profile'));
    for (const k of COST_KEYS) expect(out).toMatch(new RegExp(`^${k} = `, 'm'));
  });

  it('a profile file overrides the costs it names and nothing else, and the run uses it', () => {
    const file = join(dir, 'cheap-ioctl.json');
    writeFileSync(file, JSON.stringify({ costs: { ioctl_ns: 1234 } }));
    const base = JSON.parse(ok(migsim('profile', '--json'))) as ProfileJson;
    const over = JSON.parse(ok(migsim('profile', '--json', '--profile', file))) as ProfileJson;
    for (const c of over.costs) {
      const d = base.costs.find((x) => x.name === c.name)!;
      expect(c.value, c.name).toBe(c.name === 'ioctl_ns' ? 1234 : d.value);
    }
    // Each GET and each CLEAR of the one memslot pays ioctl_ns once; the guest's passes do not.
    const delta = (1234 - base.costs.find((c) => c.name === 'ioctl_ns')!.value) * 1e-9;
    const args = ['-v', '1', '-b', '16M', '--strategy', 'promote'];
    const a = runJson(...args)[0]!;
    const b = runJson(...args, '--profile', file)[0]!;
    a.iterations.forEach((it, i) => {
      expect(b.iterations[i]!.get_s - it.get_s).toBeCloseTo(delta, 15);
      expect(b.iterations[i]!.clear_s - it.clear_s).toBeCloseTo(delta, 15);
      expect(b.iterations[i]!.dirty_s).toBe(it.dirty_s);
    });
    expect(b.populate_s).toBe(a.populate_s);
  });
});
