import { Command, Option } from 'commander';
import { z } from 'zod';
import { parseSize } from '../common/units.js';
import { BACKING_SOURCES } from '../kernel/mmu/backing-source.js';
import { CPU_MODEL_NAMES, DEFAULT_CPU, type CpuModelName } from '../kernel/host/cpu-models.js';
import { COMMON_RELEASES, NEWEST_RELEASE, OLDEST_RELEASE } from '../kernel/host/kernel-version.js';
import type { KvmHostSpec } from '../kernel/host/kvm-host.js';
import { DEFAULT_RELEASE, resolveKvmHost } from '../kernel/host/resolve-kvm-host.js';
import { DISABLE_STRATEGIES, isTdpMmuStrategy, SHADOW_MMU_STRATEGIES, strategiesOfMmu, TDP_MMU_STRATEGIES, type DisableStrategy } from '../kernel/mmu/disable-strategy.js';
import { PROMOTE_BAILOUTS, type BailoutLikelihoods } from '../kernel/mmu/promote-bailout.js';
import { runDirtyLogPerf, type DirtyLogPerfParams } from '../kernel/selftest/dirty-log-perf.js';
import { dirtyLogPerfJson, formatDirtyLogPerfSelftest, formatDirtyLogPerfText } from '../kernel/selftest/dirty-log-perf-report.js';
import { MemstressLayoutError } from '../kernel/selftest/memstress.js';
import { CliError } from './cli-error.js';
import { withKernelFlags } from './kernel-flags.js';
import { profileFromFlag } from './profile-flag.js';
import { cliErrorFromZod } from './zod-issues.js';

const onOff = () =>
  z.string().transform((text, ctx) => {
    if (text !== 'on' && text !== 'off') {
      ctx.addIssue({ code: 'custom', message: `must be 'on' or 'off' (got '${text}')` });
      return z.NEVER;
    }
    return text === 'on';
  });

const int = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
      ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max} (got '${text}')` });
      return z.NEVER;
    }
    return n;
  });

const fraction = z.string().transform((text, ctx) => {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!(n >= 0 && n <= 1)) {
    ctx.addIssue({ code: 'custom', message: `must be a number from 0 to 1 (got '${text}')` });
    return z.NEVER;
  }
  return n;
});

/** `--format`: migsim's text (the selftest's lines per strategy, then the model's counters), the selftest's own output, JSON. */
const OUTPUT_FORMATS = ['text', 'selftest', 'json'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The raw flags as commander gives them, validated and turned into the run's parameters. */
const flagsSchema = z.object({
  v: int(1, 4096),
  b: z.string().transform((text, ctx) => {
    const bytes = parseSize(text);
    if (bytes === undefined || bytes < 4096 || bytes % 4096 !== 0) {
      ctx.addIssue({ code: 'custom', message: `must be a size that is a multiple of 4KiB, such as 1G, 512M or 4096K (got '${text}')` });
      return z.NEVER;
    }
    return bytes;
  }),
  i: int(2, 1_000_000),
  s: z.string().transform((text, ctx) => {
    if (!(BACKING_SOURCES as readonly string[]).includes(text)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${BACKING_SOURCES.join(', ')} (got '${text}')` });
      return z.NEVER;
    }
    return text as (typeof BACKING_SOURCES)[number];
  }),
  e: z.boolean(),
  g: z.boolean(),
  w: int(0, 100),
  a: z.boolean(),
  x: int(1, 32_768),
  r: int(0, 2 ** 31 - 1),
  strategy: z
    .string()
    .transform((text, ctx) => {
      const names = text.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
      const bad = names.filter((n) => !(DISABLE_STRATEGIES as readonly string[]).includes(n));
      if (names.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown strategy ${bad.map((b) => `'${b}'`).join(', ') || "''"}; use one or a comma list of ${DISABLE_STRATEGIES.join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(names)] as DisableStrategy[];
    })
    .optional(),
  kernel: z.string().optional(),
  cpu: z
    .string()
    .refine((text) => (CPU_MODEL_NAMES as readonly string[]).includes(text), { message: `must be one of ${CPU_MODEL_NAMES.join(', ')}` })
    .transform((text) => text as CpuModelName)
    .optional(),
  tdpMmu: onOff().optional(),
  nxHugePages: onOff().optional(),
  eagerSplit: onOff().optional(),
  pml: onOff().optional(),
  fastPageFault: onOff().optional(),
  thpCoverage: fraction,
  bailout: z.string().transform((text, ctx) => {
    const out: Record<string, number> = Object.fromEntries(PROMOTE_BAILOUTS.map((k) => [k, 0]));
    for (const part of text.split(',').map((t) => t.trim()).filter((t) => t.length > 0)) {
      const m = /^([a-z_]+)=([0-9.]+)$/.exec(part);
      const p = m ? Number(m[2]) : NaN;
      if (!m || !(PROMOTE_BAILOUTS as readonly string[]).includes(m[1]!) || !(p >= 0 && p <= 1)) {
        ctx.addIssue({ code: 'custom', message: `'${part}' is not REASON=PROBABILITY with REASON one of ${PROMOTE_BAILOUTS.join(', ')} and PROBABILITY from 0 to 1` });
        return z.NEVER;
      }
      out[m[1]!] = p;
    }
    return out as unknown as BailoutLikelihoods;
  }),
  profile: z.string(),
  json: z.boolean(),
  format: z.enum(OUTPUT_FORMATS, { message: `must be one of ${OUTPUT_FORMATS.join(', ')}` }).optional(),
});

const FLAG_NAMES: Record<string, string> = {
  strategy: '--strategy',
  kernel: '--kernel',
  cpu: '--cpu',
  tdpMmu: '--tdp-mmu',
  nxHugePages: '--nx-huge-pages',
  eagerSplit: '--eager-split',
  pml: '--pml',
  fastPageFault: '--fast-page-fault',
  thpCoverage: '--thp-coverage',
  bailout: '--bailout',
  profile: '--profile',
  json: '--json',
  format: '--format',
};

function flagOf(path: readonly PropertyKey[]): string {
  const key = String(path[0] ?? '');
  return FLAG_NAMES[key] ?? `-${key}`;
}

/** The command's flags and help. The action is attached by `dirtyLogPerfCommand`. */
function defineDirtyLogPerf(): Command {
  return new Command('dirty-log-perf')
    .description(
      "Reproduce KVM's tools/testing/selftests/kvm/dirty_log_perf_test in simulated time: populate, enable dirty logging, " +
        'N iterations of (dirty memory, GET_DIRTY_LOG, CLEAR_DIRTY_LOG), then disable logging once per strategy from the same state.',
    )
    .helpOption('-h, --help', 'show this help')
    .addOption(new Option('-v <vcpus>', 'number of vCPUs').default('1'))
    .addOption(new Option('-b <size>', 'guest memory per vCPU, e.g. 1G, 512M').default('1G'))
    .addOption(new Option('-i <iterations>', 'iterations (at least 2)').default('2'))
    .addOption(new Option('-s <backing>', `backing source: ${BACKING_SOURCES.join(', ')}`).default('anonymous'))
    .addOption(new Option('-e', 'keep vCPUs running (touching memory) while dirty logging is disabled').default(false))
    .addOption(new Option('-g', 'no KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: GET clears and re-protects, enable protects everything').default(false))
    .addOption(new Option('-w <percent>', 'percentage of pages written (the rest are read), 0-100').default('100'))
    .addOption(new Option('-a', 'random access order (pages drawn with replacement) instead of sequential').default(false))
    .addOption(new Option('-x <memslots>', 'split guest memory into this many memslots').default('1'))
    .addOption(new Option('-r <seed>', 'random seed').default('1'))
    .addOption(
      new Option(
        '--strategy <list>',
        `disable strategies, one or a comma list of ${DISABLE_STRATEGIES.join(', ')} (default: every strategy of the MMU in effect: ` +
          `${TDP_MMU_STRATEGIES.join(', ')} with the TDP MMU, ${SHADOW_MMU_STRATEGIES.join(', ')} with the shadow MMU; ` +
          'zap-batched is a counterfactual: 35ef80eb29ab shipped in 6.13 with in-place recovery, so no release disabled that way)',
      ),
    )
    .addOption(new Option('--kernel <release>', `host kernel release MAJOR.MINOR, ${OLDEST_RELEASE} to ${NEWEST_RELEASE}, e.g. ${COMMON_RELEASES.join(', ')}; its defaults and code paths apply (default ${DEFAULT_RELEASE})`))
    .addOption(new Option('--cpu <model>', `host CPU: ${CPU_MODEL_NAMES.join(', ')}; decides nx_huge_pages=auto and PML (default ${DEFAULT_CPU})`))
    .addOption(new Option('--tdp-mmu <on|off>', "kvm.tdp_mmu: the TDP MMU, or the shadow MMU with rmaps (default: the release's)"))
    .addOption(new Option('--nx-huge-pages <on|off>', 'kvm.nx_huge_pages: the iTLB-multihit mitigation (default auto: on where the CPU has the erratum)'))
    .addOption(new Option('--eager-split <on|off>', "kvm.eager_page_split, 5.18+, TDP MMU only (default: the release's)"))
    .addOption(new Option('--pml <on|off>', 'kvm_intel.pml: track 4K pages by D bits instead of write protection (default: on where the CPU has PML)'))
    .addOption(new Option('--fast-page-fault <on|off>', "fast_page_fault for TDP MMU write-protection faults, 5.15+ (default: the release's; the shadow MMU always has it)"))
    .addOption(new Option('--thp-coverage <fraction>', 'anonymous_thp: fraction of 2MiB regions the host backs with a THP').default('1'))
    .addOption(new Option('--bailout <list>', `promotion bail-out likelihood per region, REASON=P,... (${PROMOTE_BAILOUTS.join(', ')})`).default(''))
    .addOption(new Option('--profile <name|file>', "cost profile: 'default' or a JSON file of overrides").default('default'))
    .addOption(
      new Option(
        '--format <format>',
        "output: 'text' (the selftest's lines for each strategy, then the model's counters), 'selftest' (exactly what " +
          'dirty_log_perf_test prints, for one strategy: the one in effect or the one --strategy names; diff it against a real run) ' +
          "or 'json' (default: text)",
      ),
    )
    .addOption(new Option('--json', 'print a JSON array, one object per strategy (same as --format json)').default(false));
}

/** Validates the raw flags and builds the run's parameters; throws CliError naming the bad flag. */
function toParams(raw: Record<string, unknown>): { params: DirtyLogPerfParams; format: OutputFormat } {
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) throw cliErrorFromZod(parsed.error, flagOf);
  const f = parsed.data;
  const spec: KvmHostSpec = {
    ...(f.kernel !== undefined && { release: f.kernel }),
    ...(f.cpu !== undefined && { cpu: f.cpu }),
    ...(f.tdpMmu !== undefined && { tdpMmu: f.tdpMmu }),
    ...(f.nxHugePages !== undefined && { nxHugePages: f.nxHugePages }),
    ...(f.eagerSplit !== undefined && { eagerPageSplit: f.eagerSplit }),
    ...(f.pml !== undefined && { pml: f.pml }),
    ...(f.fastPageFault !== undefined && { fastPageFault: f.fastPageFault }),
  };
  const kernel = withKernelFlags(() => resolveKvmHost(spec));
  if (f.json && f.format !== undefined && f.format !== 'json') {
    throw new CliError(`--json and --format ${f.format} ask for different outputs; give one of them`);
  }
  const format: OutputFormat = f.json ? 'json' : (f.format ?? 'text');
  if (format === 'selftest' && f.strategy !== undefined && f.strategy.length > 1) {
    throw new CliError(`--format selftest prints one run of the selftest, for one disable strategy; --strategy names ${f.strategy.length} (${f.strategy.join(', ')})`);
  }
  // The selftest format runs the one disable the host performs: the one in effect, unless --strategy names another.
  const strategies = f.strategy ?? (format === 'selftest' ? [kernel.strategy] : strategiesOfMmu(kernel.tdpMmu));
  const foreign = strategies.filter((st) => isTdpMmuStrategy(st) !== kernel.tdpMmu);
  if (foreign.length > 0) {
    throw new CliError(
      `--strategy: ${foreign.join(', ')} ${foreign.length > 1 ? 'are disables' : 'is a disable'} of the ${kernel.tdpMmu ? 'shadow' : 'TDP'} MMU, ` +
        `but the host runs the ${kernel.tdpMmu ? 'TDP' : 'shadow'} MMU (${strategiesOfMmu(kernel.tdpMmu).join(', ')}); set --tdp-mmu ${kernel.tdpMmu ? 'off' : 'on'} to run ${foreign.join(', ')}`,
    );
  }
  const params: DirtyLogPerfParams = {
    vcpus: f.v,
    vcpuMemoryBytes: f.b,
    iterations: f.i,
    backing: f.s,
    runVcpusDuringDisable: f.e,
    manualProtect: !f.g,
    writePercent: f.w,
    randomAccess: f.a,
    slots: f.x,
    seed: f.r,
    strategies,
    kernel,
    thpCoverage: f.thpCoverage,
    bailouts: f.bailout,
    profile: profileFromFlag(f.profile).profile,
  };
  if (params.vcpus * params.vcpuMemoryBytes > 4 * 2 ** 40) {
    throw new CliError(`-v/-b: ${params.vcpus} vCPUs × ${params.vcpuMemoryBytes} bytes exceeds the 4TiB of guest memory migsim models`);
  }
  return { params, format };
}

/** Parses `migsim dirty-log-perf` arguments (without the subcommand name) into run parameters, as the command does. */
export function parseDirtyLogPerfArgs(argv: readonly string[]): DirtyLogPerfParams {
  const cmd = defineDirtyLogPerf().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  cmd.parse([...argv], { from: 'user' });
  return toParams(cmd.opts()).params;
}

export function dirtyLogPerfCommand(out: (text: string) => void): Command {
  return defineDirtyLogPerf().action((raw: Record<string, unknown>) => {
    const { params, format } = toParams(raw);
    let run;
    try {
      run = runDirtyLogPerf(params);
    } catch (e) {
      if (e instanceof MemstressLayoutError) throw new CliError(`${e.flag}: ${e.message}`);
      throw e;
    }
    if (format === 'json') out(JSON.stringify(dirtyLogPerfJson(run), null, 2));
    else if (format === 'selftest') out(formatDirtyLogPerfSelftest(run, params.strategies[0]!));
    else out(formatDirtyLogPerfText(run));
  });
}
