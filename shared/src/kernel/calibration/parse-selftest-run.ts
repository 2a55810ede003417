import { SELFTEST_DEFAULT_SEED, SELFTEST_DEFAULTS } from '../selftest/selftest-defaults.js';
import { BACKING_SOURCES, type BackingSource } from '../mmu/backing-source.js';
import { SelftestOutputInvalid } from './errors/index.js';
import type { SelftestRun } from './selftest-run.js';

/*
 * A RUN file: what a user's `dirty_log_perf_test` printed, after the command line that ran it and an optional host
 * header. The selftest's lines, their order and the flags are those of torvalds/linux tools/testing/selftests/kvm
 * (read at the tree mirrored as Kingxukai/linux 0291023e7330da28f2f7453c87c2ab7082d8360f, post-6.12):
 * - dirty_log_perf_test.c `main()`: getopt "ab:c:eghi:m:nop:r:s:v:x:w:", defaults iterations 2, 1 vCPU, 1G per vCPU
 *   (DEFAULT_PER_VCPU_MEM_SIZE), anonymous backing, 1 slot, 100% writes, seed 1; TEST_ASSERT(iterations >= 2); then
 *   "Test iterations: %"PRIu64; `run_test()` prints the phases (see formatDirtyLogPerfSelftest);
 * - lib/memstress.c `memstress_create_vm()`: "Testing guest mode: %s", "guest physical test memory: [0x%lx, 0x%lx)";
 * - lib/kvm_util.c: the constructor `kvm_selftest_init()` prints "Random seed: 0x%x" (glibc's first random()),
 *   `__vm_create()` prints it again when the test changed the seed (-r, default 1); older trees printed
 *   "Random seed: %u" from dirty_log_perf_test.c itself, after the guest physical memory line: both are read;
 * - lib/test_util.c: `parse_size()` ("[0-9]+[kmgt]?": strtoull base 0, then one letter t/g/m/k/b in either case,
 *   anything after the letter ignored), `atoi_positive`/`atoi_non_negative` (strtol base 0, the whole argument),
 *   `parse_backing_src_type()` (the names of `vm_mem_backing_src_alias`), timings "%ld.%.9lds".
 */

/** The selftest's getopt string. */
const OPTSTRING = 'ab:c:eghi:m:nop:r:s:v:x:w:';

/** Every `-s` name the selftest accepts (lib/test_util.c `vm_mem_backing_src_alias`). */
export const SELFTEST_BACKING_NAMES = [
  'anonymous',
  'anonymous_thp',
  'anonymous_hugetlb',
  'anonymous_hugetlb_16kb',
  'anonymous_hugetlb_64kb',
  'anonymous_hugetlb_512kb',
  'anonymous_hugetlb_1mb',
  'anonymous_hugetlb_2mb',
  'anonymous_hugetlb_8mb',
  'anonymous_hugetlb_16mb',
  'anonymous_hugetlb_32mb',
  'anonymous_hugetlb_256mb',
  'anonymous_hugetlb_512mb',
  'anonymous_hugetlb_1gb',
  'anonymous_hugetlb_2gb',
  'anonymous_hugetlb_16gb',
  'shmem',
  'shared_hugetlb',
] as const;

/** Flags the selftest takes that migsim cannot reproduce: the reason, for the message. */
const REJECTED_FLAGS: Readonly<Record<string, string>> = {
  h: 'prints the help and runs nothing',
  m: "selects guest modes; migsim models x86's one mode (PA-bits:ANY, VA-bits:48, 4K pages)",
  n: 'runs the vCPUs nested (L2), which migsim does not model',
  o: 'overlaps the vCPUs\' memory; migsim models each vCPU dirtying its own partition (the default)',
};

/** migsim's bounds on what it can run (as `migsim dirty-log-perf` checks them). */
const MAX_VCPUS = 4096;
const MAX_SLOTS = 32_768;
const MAX_GUEST_BYTES = 4 * 2 ** 40;

const PAGE = 4096;

/** `%ld.%.9lds` */
const TS = String.raw`(\d+)\.(\d{9})s`;
const TS_SHOWN = '<seconds>s';

interface Line {
  readonly n: number;
  readonly text: string;
}

/** Reads `text` (one RUN file) into the run it records; throws SelftestOutputInvalid naming the file and line. */
export function parseSelftestRun(text: string, source: string): SelftestRun {
  const lines = text.split(/\r?\n/).map((t, i): Line => ({ n: i + 1, text: t.replace(/\s+$/, '') }));
  const fail = (n: number, detail: string): never => {
    throw new SelftestOutputInvalid(source, n, detail);
  };

  // ---- host header, then the command line
  let uname: string | null = null;
  let cpu: string | null = null;
  const kvmParams: Record<string, string> = {};
  let i = 0;
  let command: { line: Line; tokens: string[]; program: number } | undefined;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.text.trim();
    if (t === '') continue;
    const prompted = /^[$#] /.exec(t);
    const body = prompted ? t.slice(2).trim() : t;
    const tokens = shellWords(body);
    const program = tokens.findIndex((w) => /(^|\/)dirty_log_perf_test$/.test(w));
    if (program >= 0) {
      command = { line, tokens, program };
      i++;
      break;
    }
    if (prompted) continue; // another command (`$ uname -r`, `# cat /sys/module/...`) or a comment
    if (/^(Random seed|Test iterations|Testing guest mode):/.test(t)) {
      fail(line.n, `expected the command line that produced the output (a line naming dirty_log_perf_test, e.g. '$ ./dirty_log_perf_test -v 4 -b 1G'), found '${t}'`);
    }
    const h = headerLine(t);
    if (!h) {
      fail(
        line.n,
        "expected a host header line ('uname -r' output such as 6.12.8-200.fc41.x86_64 or 'uname: …', 'model name : …' or 'cpu: …', " +
          `'kvm.<param>=<value>' or '/sys/module/kvm/parameters/<param>: <value>') or the command line naming dirty_log_perf_test, found '${t}'`,
      );
    }
    if (h!.kind === 'uname') {
      if (uname !== null && uname !== h!.value) fail(line.n, `a second kernel release '${h!.value}' (the header already gave '${uname}')`);
      uname = h!.value;
    } else if (h!.kind === 'cpu') {
      if (cpu !== null && cpu !== h!.value) fail(line.n, `a second CPU model '${h!.value}' (the header already gave '${cpu}')`);
      cpu = h!.value;
    } else {
      const prev = kvmParams[h!.key];
      if (prev !== undefined && prev !== h!.value) fail(line.n, `${h!.key} given twice, as '${prev}' and '${h!.value}'`);
      kvmParams[h!.key] = h!.value;
    }
  }
  if (!command) {
    return fail(lines.reduce((last, l) => (l.text.trim() === '' ? last : l.n), 0) + 1, "expected the command line that produced the output (a line naming dirty_log_perf_test, e.g. '$ ./dirty_log_perf_test -v 4 -b 1G'), found the end of the file");
  }
  const config = parseCommandLine(command.tokens.slice(command.program + 1), (detail) => fail(command.line.n, detail));

  // ---- the selftest's output
  const cur = new Cursor(lines, i, (n, detail) => fail(n, detail));
  // The guest's seeds (printed after the guest mode line by __vm_create, or after the memory line by older trees).
  const seeds: { line: Line; value: number }[] = [];
  const seedLine = (): void => {
    const m = cur.maybe(/^Random seed: (0x[0-9a-fA-F]+|\d+)$/);
    if (m) seeds.push({ line: m.line, value: Number(m.groups[1]) });
  };
  cur.maybe(/^Random seed: 0x[0-9a-fA-F]+$/); // the constructor's, before main()
  const iterLine = cur.expect(/^Test iterations: (\d+)$/, 'Test iterations: <iterations>');
  if (Number(iterLine.groups[1]) !== config.iterations) {
    fail(iterLine.line.n, `expected 'Test iterations: ${config.iterations}' (the command line's ${config.iterationsGiven ? '-i' : 'default'}), found '${iterLine.line.text}'`);
  }
  const mode = cur.expect(/^Testing guest mode: (.+)$/, 'Testing guest mode: <mode>');
  if (!/ 4K pages$/.test(mode.groups[1]!)) {
    fail(mode.line.n, `expected a guest mode with 4K pages ('Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages' on x86), found '${mode.line.text}'`);
  }
  seedLine();
  const gpa = cur.expect(/^guest physical test memory: \[0x([0-9a-fA-F]+), 0x([0-9a-fA-F]+)\)$/, 'guest physical test memory: [0x<start>, 0x<end>)');
  const gpaStart = parseInt(gpa.groups[1]!, 16);
  const gpaEnd = parseInt(gpa.groups[2]!, 16);
  const bytes = config.vcpus * config.vcpuMemoryBytes;
  if (gpaEnd - gpaStart !== bytes) {
    fail(gpa.line.n, `guest physical test memory spans ${gpaEnd - gpaStart} bytes, but the command line's -v ${config.vcpus} -b ${config.vcpuMemoryBytes} make ${bytes}`);
  }
  seedLine();
  for (const seed of seeds) {
    if (config.seedGiven && seed.value !== config.seed) {
      fail(seed.line.n, `expected 'Random seed: 0x${config.seed.toString(16)}' (the command line's -r ${config.seed}), found '${seed.line.text.trim()}'`);
    }
  }

  const timed = (label: string, why?: string): number => {
    const m = cur.expect(new RegExp(`^${escapeRe(label)}: ${TS}$`), `${label}: ${TS_SHOWN}`, why);
    return Number(m.groups[1]) * 1e9 + Number(m.groups[2]);
  };
  const populateNs = timed('Populate memory time');
  const enableNs = timed('Enabling dirty logging time');
  const manualWhy = config.manualProtect
    ? 'the command line has no -g, so the selftest enabled KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 and clears the log each iteration'
    : undefined;
  const iterations: { dirtyNs: number; getNs: number; clearNs: number | null }[] = [];
  for (let k = 1; k <= config.iterations; k++) {
    const dirtyNs = timed(
      `Iteration ${k} dirty memory time`,
      `iteration ${k} of the command line's -i ${config.iterations}${config.manualProtect ? '' : ', with -g: no clear dirty log lines'}`,
    );
    const getNs = timed(`Iteration ${k} get dirty log time`);
    const clearNs = config.manualProtect ? timed(`Iteration ${k} clear dirty log time`, manualWhy) : null;
    iterations.push({ dirtyNs, getNs, clearNs });
  }
  const disableNs = timed(
    'Disabling dirty logging time',
    `after iteration ${config.iterations}'s ${config.manualProtect ? 'clear' : 'get'} dirty log time (-i ${config.iterations}${config.manualProtect ? '' : ', -g'})`,
  );
  const summary = (what: 'Get' | 'Clear', totalNs: number, why?: string): void => {
    const n = config.iterations;
    const shown = `${what} dirty log over ${n} iterations took ${TS_SHOWN}. (Avg ${TS_SHOWN}/iteration)`;
    const m = cur.expect(new RegExp(`^${what} dirty log over (\\d+) iterations took ${TS}\\. \\(Avg ${TS}/iteration\\)$`), shown, why);
    const printedN = Number(m.groups[1]);
    const total = Number(m.groups[2]) * 1e9 + Number(m.groups[3]);
    const avg = Number(m.groups[4]) * 1e9 + Number(m.groups[5]);
    const expected = `${what} dirty log over ${n} iterations took ${fmtNs(totalNs)}. (Avg ${fmtNs(Math.floor(totalNs / n))}/iteration)`;
    if (printedN !== n || total !== totalNs || avg !== Math.floor(totalNs / n)) {
      fail(m.line.n, `expected '${expected}' (the sum of the ${n} iterations' ${what.toLowerCase()} dirty log times and its average), found '${m.line.text}'`);
    }
  };
  summary('Get', iterations.reduce((a, it) => a + it.getNs, 0));
  if (config.manualProtect) summary('Clear', iterations.reduce((a, it) => a + (it.clearNs ?? 0), 0), manualWhy);
  cur.expectEnd();

  const s = (ns: number): number => ns / 1e9;
  return {
    source,
    config: {
      vcpus: config.vcpus,
      vcpuMemoryBytes: config.vcpuMemoryBytes,
      iterations: config.iterations,
      backing: config.backing,
      runVcpusDuringDisable: config.runVcpusDuringDisable,
      manualProtect: config.manualProtect,
      writePercent: config.writePercent,
      randomAccess: config.randomAccess,
      slots: config.slots,
      seed: config.seed,
      pinnedCpus: config.pinnedCpus,
    },
    host: { uname, cpu, kvmParams },
    printed: {
      commandLine: command.line.text.trim(),
      commandLineNumber: command.line.n,
      guestMode: mode.groups[1]!,
      guestPhysRange: [gpaStart, gpaEnd],
    },
    timings: {
      populateS: s(populateNs),
      enableS: s(enableNs),
      iterations: iterations.map((it) => ({ dirtyS: s(it.dirtyNs), getS: s(it.getNs), clearS: it.clearNs === null ? null : s(it.clearNs) })),
      disableS: s(disableNs),
    },
  };
}

/** The selftest's `%ld.%.9lds` of whole nanoseconds. */
function fmtNs(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  return `${sec}.${String(ns - sec * 1e9).padStart(9, '0')}s`;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Reads the output's non-blank lines in order (the selftest prints one empty line, after enabling; copies may add others). */
class Cursor {
  constructor(
    private readonly lines: readonly Line[],
    private i: number,
    private readonly fail: (n: number, detail: string) => never,
  ) {}

  private peek(): Line | undefined {
    while (this.i < this.lines.length && this.lines[this.i]!.text.trim() === '') this.i++;
    return this.lines[this.i];
  }

  maybe(re: RegExp): { line: Line; groups: RegExpExecArray } | undefined {
    const line = this.peek();
    const m = line ? re.exec(line.text.trim()) : null;
    if (!line || !m) return undefined;
    this.i++;
    return { line, groups: m };
  }

  expect(re: RegExp, shown: string, why?: string): { line: Line; groups: RegExpExecArray } {
    const got = this.maybe(re);
    if (got) return got;
    const line = this.peek();
    const found = line ? `found '${line.text.trim()}'` : 'found the end of the file';
    // At the end of the file: the line after the last one written, where the expected line would have been.
    const n = line ? line.n : this.lines.reduce((last, l) => (l.text.trim() === '' ? last : l.n), 0) + 1;
    return this.fail(n, `expected '${shown}'${why ? ` (${why})` : ''}, ${found}`);
  }

  expectEnd(): void {
    const line = this.peek();
    if (line) this.fail(line.n, `expected the end of the selftest's output (after the dirty log totals), found '${line.text.trim()}'`);
  }
}

type HeaderLine = { kind: 'uname'; value: string } | { kind: 'cpu'; value: string } | { kind: 'param'; key: string; value: string };

/** One host header line, or undefined when the line is none of the forms. */
function headerLine(t: string): HeaderLine | undefined {
  let m = /^uname(?: -r)?\s*:\s*(\S+)$/i.exec(t);
  if (m) return { kind: 'uname', value: m[1]! };
  if (/^\d+\.\d+(?:\.\d+)?(?:[-+.~_][0-9A-Za-z._+~-]*)?$/.test(t)) return { kind: 'uname', value: t };
  m = /^Linux \S+ (\d+\.\d+\S*) /.exec(t); // `uname -a`
  if (m) return { kind: 'uname', value: m[1]! };
  m = /^(?:model name|cpu)\s*:\s*(.+)$/i.exec(t);
  if (m) return { kind: 'cpu', value: m[1]!.trim() };
  m = /^(kvm(?:[_-](?:intel|amd))?)\.([A-Za-z0-9_]+)\s*[=:]\s*(\S+)$/.exec(t);
  if (m) return { kind: 'param', key: `${m[1]!.replace('-', '_')}.${m[2]!}`, value: m[3]! };
  m = /^\/sys\/module\/(kvm(?:_intel|_amd)?)\/parameters\/([A-Za-z0-9_]+)\s*:\s*(\S+)$/.exec(t);
  if (m) return { kind: 'param', key: `${m[1]!}.${m[2]!}`, value: m[3]! };
  return undefined;
}

/** Splits a command line into words (plain, '…' and "…" quoting), as a shell would for the simple lines users paste. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /(?:[^\s'"]+|'[^']*'|"[^"]*")+/g;
  for (const m of line.matchAll(re)) words.push(m[0].replace(/'([^']*)'|"([^"]*)"/g, (_, a: string | undefined, b: string | undefined) => a ?? b ?? ''));
  return words;
}

interface CommandConfig {
  vcpus: number;
  vcpuMemoryBytes: number;
  iterations: number;
  iterationsGiven: boolean;
  backing: BackingSource;
  runVcpusDuringDisable: boolean;
  manualProtect: boolean;
  writePercent: number;
  randomAccess: boolean;
  slots: number;
  seed: number;
  seedGiven: boolean;
  pinnedCpus: string | null;
}

/** The selftest's `main()` on the words after the program: getopt(OPTSTRING), then its checks; `fail` names the flag. */
function parseCommandLine(args: readonly string[], fail: (detail: string) => never): CommandConfig {
  const c: CommandConfig = {
    ...SELFTEST_DEFAULTS,
    iterationsGiven: false,
    seed: SELFTEST_DEFAULT_SEED,
    seedGiven: false,
    pinnedCpus: null,
  };
  const options: [string, string | undefined][] = [];
  for (let k = 0; k < args.length; k++) {
    const w = args[k]!;
    if (/^(\|\|?|&&|;|&)$/.test(w)) break; // the pipeline or list goes on with another command (`| tee run-1.txt`)
    if (/^\d*(>>?|<)&?\d*$/.test(w)) {
      if (!/&\d+$/.test(w)) k++; // `> file`, `2> file`; `2>&1` stands alone
      continue;
    }
    if (/^\d*(>>?|<)/.test(w)) continue; // `>file`, `2>>file`
    if (w === '--') break;
    if (!w.startsWith('-') || w === '-') fail(`'${w}' is not an option of dirty_log_perf_test (it takes no arguments; its options are ${describeOptstring()})`);
    for (let j = 1; j < w.length; j++) {
      const opt = w[j]!;
      const at = OPTSTRING.indexOf(opt);
      if (opt === ':' || at < 0) {
        const hint = opt === 'f' ? " (older selftests' write fraction 1/N; this selftest takes -w <percent>)" : '';
        fail(`-${opt} is not an option of dirty_log_perf_test${hint}; its options are ${describeOptstring()}`);
      }
      if (OPTSTRING[at + 1] === ':') {
        const value = j + 1 < w.length ? w.slice(j + 1) : args[++k];
        if (value === undefined) fail(`-${opt} needs a value`);
        options.push([opt, value]);
        break;
      }
      options.push([opt, undefined]);
    }
  }
  for (const [opt, value] of options) {
    const v = value ?? '';
    if (REJECTED_FLAGS[opt]) fail(`-${opt} ${REJECTED_FLAGS[opt]}; migsim cannot reproduce this run`);
    switch (opt) {
      case 'a':
        c.randomAccess = true;
        break;
      case 'b':
        c.vcpuMemoryBytes = parseSize(v, fail);
        break;
      case 'c':
        c.pinnedCpus = v;
        break;
      case 'e':
        c.runVcpusDuringDisable = true;
        break;
      case 'g':
        c.manualProtect = false;
        break;
      case 'i':
        c.iterations = atoiPositive('-i', 'Number of iterations', v, fail);
        c.iterationsGiven = true;
        break;
      case 'p':
        break; // dirty_log_perf_test parses -p into test_params.phys_offset and never reads it
      case 'r':
        c.seed = atoiPositive('-r', 'Random seed', v, fail);
        c.seedGiven = true;
        break;
      case 's':
        c.backing = parseBacking(v, fail);
        break;
      case 'v':
        c.vcpus = atoiPositive('-v', 'Number of vCPUs', v, fail);
        if (c.vcpus > MAX_VCPUS) fail(`-v ${c.vcpus}: migsim runs at most ${MAX_VCPUS} vCPUs`);
        break;
      case 'w': {
        const n = strtolBase0(v);
        if (n === undefined || n < 0 || n > 100) fail(`-w '${v}': the write percentage must be an integer from 0 to 100 (the selftest's atoi_non_negative and TEST_ASSERT)`);
        c.writePercent = n!;
        break;
      }
      case 'x':
        c.slots = atoiPositive('-x', 'Number of slots', v, fail);
        if (c.slots > MAX_SLOTS) fail(`-x ${c.slots}: migsim runs at most ${MAX_SLOTS} memslots`);
        break;
    }
  }
  if (c.iterations < 2) fail(`-i ${c.iterations}: the selftest asserts at least two iterations ('The test should have at least two iterations')`);
  if (c.vcpuMemoryBytes % PAGE !== 0 || c.vcpuMemoryBytes === 0) {
    fail(`-b ${c.vcpuMemoryBytes} bytes: guest memory per vCPU must be a non-zero multiple of 4096 (the selftest asserts 'Guest memory size is not host page size aligned')`);
  }
  if (c.vcpus * c.vcpuMemoryBytes > MAX_GUEST_BYTES) fail(`-v ${c.vcpus} -b ${c.vcpuMemoryBytes}: more than the 4TiB of guest memory migsim models`);
  if (((c.vcpus * c.vcpuMemoryBytes) / PAGE) % c.slots !== 0) {
    fail(`-x ${c.slots}: ${(c.vcpus * c.vcpuMemoryBytes) / PAGE} guest pages do not divide into ${c.slots} slots (the selftest asserts 'Guest memory cannot be evenly divided')`);
  }
  return c;
}

function describeOptstring(): string {
  return '-a -b <size> -c <pcpus> -e -g -h -i <iterations> -m <mode> -n -o -p <offset> -r <seed> -s <backing> -v <vcpus> -x <memslots> -w <percent>';
}

/** strtol(text, &end, 0) over the whole text, as atoi_paranoid; undefined when it is not one C integer. */
function strtolBase0(text: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (!m) return undefined;
  const n = parseInt(m[2]!, m[2]!.startsWith('0x') || m[2]!.startsWith('0X') ? 16 : m[2]!.length > 1 && m[2]!.startsWith('0') ? 8 : 10);
  const signed = m[1] === '-' ? -n : n;
  return signed >= -(2 ** 31) && signed <= 2 ** 31 - 1 ? signed : undefined;
}

function atoiPositive(flag: string, name: string, text: string, fail: (detail: string) => never): number {
  const n = strtolBase0(text);
  if (n === undefined || n <= 0) fail(`${flag} '${text}': ${name} must be a positive integer (the selftest's atoi_positive)`);
  return n!;
}

/** lib/test_util.c parse_size(): "[0-9]+[kmgt]?" with strtoull base 0; b or nothing after the number is bytes. */
function parseSize(text: string, fail: (detail: string) => never): number {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)(.?)/.exec(text);
  if (!m) return fail(`-b '${text}': the selftest's parse_size needs at least one digit first (sizes such as 512M, 1G, 4096K)`);
  const digits = m[1]!;
  const base = BigInt(digits.length > 1 && digits.startsWith('0') && !/^0[xX]/.test(digits) ? `0o${digits.slice(1)}` : digits);
  const shift = { t: 40n, g: 30n, m: 20n, k: 10n, b: 0n, '': 0n }[m[2]!.toLowerCase()];
  if (shift === undefined) return fail(`-b '${text}': unknown size letter '${m[2]}' (parse_size takes k, m, g, t or b, in either case)`);
  const bytes = base << shift;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return fail(`-b '${text}': too large`);
  return Number(bytes);
}

function parseBacking(name: string, fail: (detail: string) => never): BackingSource {
  if ((BACKING_SOURCES as readonly string[]).includes(name)) return name as BackingSource;
  if ((SELFTEST_BACKING_NAMES as readonly string[]).includes(name)) {
    return fail(`-s ${name}: a backing the selftest takes but migsim does not model; migsim models ${BACKING_SOURCES.join(', ')}`);
  }
  return fail(`-s '${name}': not a backing source of the selftest (${SELFTEST_BACKING_NAMES.join(', ')}); migsim models ${BACKING_SOURCES.join(', ')}`);
}
