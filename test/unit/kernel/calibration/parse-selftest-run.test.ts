import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDirtyLogPerfArgs } from '../../../../shared/src/cli/dirty-log-perf-command.js';
import { SelftestOutputInvalid } from '../../../../shared/src/kernel/calibration/errors/index.js';
import { parseSelftestRun } from '../../../../shared/src/kernel/calibration/parse-selftest-run.js';
import { runDirtyLogPerf } from '../../../../shared/src/kernel/selftest/dirty-log-perf.js';
import { formatDirtyLogPerfSelftest } from '../../../../shared/src/kernel/selftest/dirty-log-perf-report.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/selftest');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const GIB = 2 ** 30;

describe('parseSelftestRun: fixtures', () => {
  it('manual protect, THP, 3 iterations, /sys/module header form', () => {
    const run = parseSelftestRun(fixture('manual-protect-thp.txt'), 'manual-protect-thp.txt');
    expect(run.source).toBe('manual-protect-thp.txt');
    expect(run.config).toEqual({
      vcpus: 4,
      vcpuMemoryBytes: GIB,
      iterations: 3,
      backing: 'anonymous_thp',
      runVcpusDuringDisable: false,
      manualProtect: true,
      writePercent: 100,
      randomAccess: false,
      slots: 1,
      seed: 1,
      pinnedCpus: null,
    });
    expect(run.host).toEqual({
      uname: '6.12.8-200.fc41.x86_64',
      cpu: 'Intel(R) Xeon(R) Gold 6354 CPU @ 3.00GHz',
      kvmParams: { 'kvm.tdp_mmu': 'Y', 'kvm.eager_page_split': 'Y', 'kvm_intel.pml': 'Y' },
    });
    expect(run.printed).toEqual({
      commandLine: '$ ./dirty_log_perf_test -v 4 -b 1G -i 3 -s anonymous_thp',
      commandLineNumber: 7,
      guestMode: 'PA-bits:ANY, VA-bits:48,  4K pages',
      guestPhysRange: [0x3ffeffe00000, 0x3fffffe00000],
    });
    expect(run.timings).toEqual({
      populateS: 1.873215402,
      enableS: 0.004318227,
      iterations: [
        { dirtyS: 0.412906113, getS: 0.001208334, clearS: 0.023876005 },
        { dirtyS: 0.398177254, getS: 0.001190876, clearS: 0.024012337 },
        { dirtyS: 0.401002871, getS: 0.001201455, clearS: 0.023944118 },
      ],
      disableS: 0.152338907,
    });
  });

  it('-g: no clear times; -x 2; uname:/cpu: header forms; a root prompt', () => {
    const run = parseSelftestRun(fixture('no-manual-protect.txt'), 'no-manual-protect.txt');
    expect(run.config).toMatchObject({ vcpus: 8, vcpuMemoryBytes: GIB / 2, manualProtect: false, slots: 2, iterations: 2 });
    expect(run.host).toEqual({ uname: '6.6.58', cpu: 'AMD EPYC 7B13 64-Core Processor', kvmParams: { 'kvm.tdp_mmu': 'Y', 'kvm_amd.npt': 'Y' } });
    expect(run.timings.iterations.map((it) => it.clearS)).toEqual([null, null]);
    expect(run.timings.disableS).toBe(0.041006725);
  });

  it('-e with 2 MiB HugeTLB, -w 50 -a -r 7, behind sudo taskset and a pipe', () => {
    const run = parseSelftestRun(fixture('evil-hugetlb-2mb.txt'), 'evil-hugetlb-2mb.txt');
    expect(run.config).toEqual({
      vcpus: 8,
      vcpuMemoryBytes: GIB,
      iterations: 2,
      backing: 'anonymous_hugetlb_2mb',
      runVcpusDuringDisable: true,
      manualProtect: true,
      writePercent: 50,
      randomAccess: true,
      slots: 1,
      seed: 7,
      pinnedCpus: null,
    });
    expect(run.host.kvmParams).toEqual({ 'kvm.tdp_mmu': 'Y', 'kvm.nx_huge_pages': 'N' });
    expect(run.timings.disableS).toBe(1.508227946);
  });

  it('1 GiB HugeTLB', () => {
    const run = parseSelftestRun(fixture('hugetlb-1gb.txt'), 'hugetlb-1gb.txt');
    expect(run.config).toMatchObject({ vcpus: 2, vcpuMemoryBytes: 4 * GIB, backing: 'anonymous_hugetlb_1gb', manualProtect: true });
    expect(run.printed!.guestPhysRange[0] % GIB).toBe(0);
    expect(run.timings.iterations).toHaveLength(2);
  });

  it('several RUN files are parsed independently', () => {
    const names = ['manual-protect-thp.txt', 'no-manual-protect.txt', 'evil-hugetlb-2mb.txt', 'hugetlb-1gb.txt'];
    const runs = names.map((n) => parseSelftestRun(fixture(n), n));
    expect(runs.map((r) => r.source)).toEqual(names);
    expect(new Set(runs.map((r) => r.config.vcpuMemoryBytes)).size).toBe(3);
  });
});

describe('parseSelftestRun: command lines as the selftest reads them', () => {
  const out = (iterations = 2): string => {
    const lines = [
      `Test iterations: ${iterations}`,
      'Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages',
      'guest physical test memory: [0x0, 0x400000)',
      'Populate memory time: 0.000000001s',
      'Enabling dirty logging time: 0.000000001s',
    ];
    for (let k = 1; k <= iterations; k++) lines.push(`Iteration ${k} dirty memory time: 0.000000001s`, `Iteration ${k} get dirty log time: 0.000000002s`, `Iteration ${k} clear dirty log time: 0.000000003s`);
    lines.push('Disabling dirty logging time: 0.000000001s');
    lines.push(`Get dirty log over ${iterations} iterations took ${`0.${String(2 * iterations).padStart(9, '0')}s`}. (Avg 0.000000002s/iteration)`);
    lines.push(`Clear dirty log over ${iterations} iterations took ${`0.${String(3 * iterations).padStart(9, '0')}s`}. (Avg 0.000000003s/iteration)`);
    return lines.join('\n');
  };
  const parse = (cmd: string, body = out()) => parseSelftestRun(`${cmd}\n${body}`, 'cmd.txt');

  it('parse_size: suffixes k/m/g/t/b in either case, hex and octal numbers, trailing text after the letter', () => {
    expect(parse('dirty_log_perf_test -b 4M').config.vcpuMemoryBytes).toBe(4 * 2 ** 20);
    expect(parse('dirty_log_perf_test -b 4096k').config.vcpuMemoryBytes).toBe(4 * 2 ** 20);
    expect(parse('dirty_log_perf_test -b 4mb').config.vcpuMemoryBytes).toBe(4 * 2 ** 20);
    expect(parse('dirty_log_perf_test -b 0x400000').config.vcpuMemoryBytes).toBe(4 * 2 ** 20);
    expect(parse('dirty_log_perf_test -b 04M').config.vcpuMemoryBytes).toBe(4 * 2 ** 20);
    expect(parse('dirty_log_perf_test -b4M').config.vcpuMemoryBytes).toBe(4 * 2 ** 20);
  });

  it('combined flags, attached values, -c and -p accepted', () => {
    const run = parse('$ ./dirty_log_perf_test -eag -b 4M -c 2,3 -p 0x10000000 -w0', out().replace(/^Iteration \d clear.*$\n?/gm, '').replace(/^Clear dirty log over.*$/m, ''));
    expect(run.config).toMatchObject({ runVcpusDuringDisable: true, randomAccess: true, manualProtect: false, writePercent: 0, pinnedCpus: '2,3' });
  });

  it.each([
    ['dirty_log_perf_test -b 4M -k', /cmd\.txt:1: -k is not an option of dirty_log_perf_test/],
    ['dirty_log_perf_test -b 4M -f 2', /-f is not an option.*older selftests' write fraction/],
    ['dirty_log_perf_test -b 4M -n', /-n runs the vCPUs nested/],
    ['dirty_log_perf_test -b 4M -m 9', /-m selects guest modes/],
    ['dirty_log_perf_test -b 4M -o', /-o overlaps/],
    ['dirty_log_perf_test -b 4M -s shmem', /-s shmem: a backing the selftest takes but migsim does not model; migsim models anonymous, anonymous_thp, anonymous_hugetlb_2mb, anonymous_hugetlb_1gb/],
    ['dirty_log_perf_test -b 4M -s hugetlb', /-s 'hugetlb': not a backing source of the selftest/],
    ['dirty_log_perf_test -b 4.5M', /-b '4.5M': unknown size letter '\.'/],
    ['dirty_log_perf_test -b M4', /-b 'M4': .*at least one digit/],
    ['dirty_log_perf_test -b 4M -i 1', /-i 1: the selftest asserts at least two iterations/],
    ['dirty_log_perf_test -b 4M -v 0', /-v '0': Number of vCPUs must be a positive integer/],
    ['dirty_log_perf_test -b 4M -w 101', /-w '101': the write percentage must be an integer from 0 to 100/],
    ['dirty_log_perf_test -b 4M -x 3', /-x 3: 1024 guest pages do not divide into 3 slots/],
    ['dirty_log_perf_test -b 4M -v', /-v needs a value/],
    ['dirty_log_perf_test -b 4M extra', /'extra' is not an option of dirty_log_perf_test/],
  ])('%s is rejected with the file, line and why', (cmd, re) => {
    expect(() => parse(cmd)).toThrow(SelftestOutputInvalid);
    expect(() => parse(cmd)).toThrow(re);
  });
});

describe('parseSelftestRun: malformed output names the file, the line and what was expected', () => {
  const good = fixture('manual-protect-thp.txt');
  const lines = good.split('\n');
  const lineOf = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix)) + 1;
  const edit = (f: (ls: string[]) => void): string => {
    const ls = [...lines];
    f(ls);
    return ls.join('\n');
  };
  const fails = (text: string, line: number, re: RegExp): void => {
    let err: unknown;
    try {
      parseSelftestRun(text, 'run-3.txt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SelftestOutputInvalid);
    const e = err as SelftestOutputInvalid;
    expect(e.source).toBe('run-3.txt');
    expect(e.line).toBe(line);
    expect(e.message.startsWith(`run-3.txt:${line}: `)).toBe(true);
    expect(e.message).toMatch(re);
  };

  it('a missing iteration line', () => {
    const n = lineOf('Iteration 2 get dirty log time');
    fails(edit((ls) => ls.splice(n - 1, 1)), n, /expected 'Iteration 2 get dirty log time: <seconds>s', found 'Iteration 2 clear dirty log time: 0\.024012337s'/);
  });

  it('a missing iteration (-i 3 but only two printed)', () => {
    const n = lineOf('Iteration 3 dirty memory time');
    fails(edit((ls) => ls.splice(n - 1, 3)), n, /expected 'Iteration 3 dirty memory time: <seconds>s' \(iteration 3 of the command line's -i 3\), found 'Disabling dirty logging time/);
  });

  it('the disable line missing', () => {
    const n = lineOf('Disabling dirty logging time');
    fails(edit((ls) => ls.splice(n - 1, 1)), n, /expected 'Disabling dirty logging time: <seconds>s' .*found 'Get dirty log over 3 iterations/);
  });

  it('a timing that is not a number', () => {
    const n = lineOf('Populate memory time');
    fails(edit((ls) => (ls[n - 1] = 'Populate memory time: n/as')), n, /expected 'Populate memory time: <seconds>s', found 'Populate memory time: n\/as'/);
    fails(edit((ls) => (ls[n - 1] = 'Populate memory time: 1.87s')), n, /expected 'Populate memory time: <seconds>s'/);
  });

  it('clear lines without manual protect, and none with it', () => {
    const n = lineOf('Iteration 1 clear dirty log time');
    fails(edit((ls) => ls.splice(n - 1, 1)), n, /expected 'Iteration 1 clear dirty log time: <seconds>s' \(the command line has no -g/);
    const withG = good.replace('-s anonymous_thp', '-s anonymous_thp -g');
    fails(withG, n, /expected 'Iteration 2 dirty memory time: <seconds>s' \(iteration 2 of the command line's -i 3, with -g: no clear dirty log lines\), found 'Iteration 1 clear/);
  });

  it('a total that is not the sum of the iterations', () => {
    const n = lineOf('Get dirty log over');
    fails(edit((ls) => (ls[n - 1] = ls[n - 1]!.replace('0.003600665s', '0.003600666s'))), n, /expected 'Get dirty log over 3 iterations took 0\.003600665s\. \(Avg 0\.001200221s\/iteration\)'/);
  });

  it('output that stops early, and lines after the totals', () => {
    const n = lineOf('Clear dirty log over');
    fails(edit((ls) => ls.splice(n - 1)), n, /expected 'Clear dirty log over 3 iterations took <seconds>s\. \(Avg <seconds>s\/iteration\)'.*found the end of the file/);
    fails(`${good}\n==== Test Assertion Failure ====\n`, lines.length + 1, /expected the end of the selftest's output/);
  });

  it('an iteration count or memory size that disagrees with the command line', () => {
    fails(good.replace('-i 3', '-i 4'), lineOf('Test iterations'), /expected 'Test iterations: 4' \(the command line's -i\)/);
    fails(good.replace('-b 1G', '-b 2G'), lineOf('guest physical test memory'), /spans 4294967296 bytes, but the command line's -v 4 -b 2147483648 make 8589934592/);
  });

  it('a seed that is not the command line\'s -r', () => {
    fails(good.replace('-s anonymous_thp', '-s anonymous_thp -r 5'), lineOf('Random seed: 0x1'), /expected 'Random seed: 0x5' \(the command line's -r 5\), found 'Random seed: 0x1'/);
  });

  it('no command line, or an unreadable header line', () => {
    const n = lineOf('$ ./dirty_log_perf_test');
    fails(edit((ls) => ls.splice(n - 1, 1)), n, /expected the command line that produced the output \(a line naming dirty_log_perf_test/);
    fails(`hello world\n${good}`, 1, /expected a host header line .* found 'hello world'/);
    fails('', 1, /found the end of the file/);
  });
});

describe('round trip: --format selftest output parses back to the run', () => {
  it.each([
    [['-v', '2', '-b', '64M', '-i', '3', '-s', 'anonymous_hugetlb_2mb']],
    [['-v', '1', '-b', '32M', '-g', '-e', '-w', '50', '-a', '-r', '9', '-x', '2']],
    [['-v', '1', '-b', '2G', '-s', 'anonymous_hugetlb_1gb']],
  ])('migsim dirty-log-perf %j', (args) => {
    const params = parseDirtyLogPerfArgs(args);
    const run = runDirtyLogPerf({ ...params, strategies: [params.kernel.strategy] });
    const text = `$ ./dirty_log_perf_test ${args.join(' ')}\n${formatDirtyLogPerfSelftest(run, params.kernel.strategy)}`;
    const parsed = parseSelftestRun(text, 'migsim.txt');
    expect(parsed.config).toEqual({
      vcpus: params.vcpus,
      vcpuMemoryBytes: params.vcpuMemoryBytes,
      iterations: params.iterations,
      backing: params.backing,
      runVcpusDuringDisable: params.runVcpusDuringDisable,
      manualProtect: params.manualProtect,
      writePercent: params.writePercent,
      randomAccess: params.randomAccess,
      slots: params.slots,
      seed: params.seed,
      pinnedCpus: null,
    });
    const near = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9);
    near(parsed.timings.populateS, run.populate.ns / 1e9);
    near(parsed.timings.enableS, run.enable.ns / 1e9);
    near(parsed.timings.disableS, run.strategies[0]!.disable.ns / 1e9);
    expect(parsed.timings.iterations).toHaveLength(run.iterations.length);
    parsed.timings.iterations.forEach((it, k) => {
      const m = run.iterations[k]!;
      near(it.dirtyS, m.dirty.ns / 1e9);
      near(it.getS, m.get.ns / 1e9);
      if (params.manualProtect) near(it.clearS!, m.clear!.ns / 1e9);
      else expect(it.clearS).toBeNull();
    });
  });
});
