import { Command, Option } from 'commander';
import { formatDuration, formatRate, formatSize, parseDuration, parseRate, parseSizeStrict } from '../common/units.js';
import { migrationJobSchema, TIMEOUT_ACTIONS, type MigrationJob, type MigrationJobInput } from '../migration/job/migration-job.js';
import type { MigrationResult } from '../migration/job/migration-result.js';
import { GUEST_IMPACT_BY_STRATEGY, GUEST_IMPACT_COMPONENTS, GUEST_IMPACT_OF_DISABLE, HOST_CPU_BY_STRATEGY, HOST_CPU_COMPONENTS, wholeCost } from '../migration/job/whole-cost.js';
import { QEMU_DEFAULTS } from '../migration/precopy/qemu-defaults.js';
import { PROBE_MODES } from '../migration/probe/probe-mode.js';
import { runMigrationJob } from '../migration/job/run-migration-job.js';
import { BACKING_SOURCES } from '../kernel/mmu/backing-source.js';
import { DISABLE_STRATEGIES } from '../kernel/mmu/disable-strategy.js';
import { CPU_MODEL_NAMES, DEFAULT_CPU } from '../kernel/host/cpu-models.js';
import { COMMON_RELEASES, NEWEST_RELEASE, OLDEST_RELEASE } from '../kernel/host/kernel-version.js';
import { DEFAULT_RELEASE } from '../kernel/host/resolve-kvm-host.js';
import { KERNEL_FLAGS } from './kernel-flags.js';
import { PROMOTE_BAILOUTS } from '../kernel/mmu/promote-bailout.js';
import { ACCESS_PATTERNS, WORKLOAD_KINDS } from '../migration/workload/workload-spec.js';
import { CliError } from './cli-error.js';
import { numberFlag } from './flag-values.js';
import { resolveProfile } from '../kernel/mmu/resolve-profile.js';
import { profileFromFlag } from './profile-flag.js';

/** A flag value turned into a number by a unit parser, or a CliError naming the flag and the accepted form. */
function unit(flag: string, text: string | undefined, parse: (t: string) => number | undefined, form: string): number | undefined {
  if (text === undefined) return undefined;
  const v = parse(text);
  if (v === undefined) throw new CliError(`${flag}: '${text}' is not ${form}`);
  return v;
}

/** One of `allowed`, or a CliError naming the flag; undefined when the flag is not given (the schema's default). */
function oneOf<T extends string>(flag: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw new CliError(`${flag}: must be one of ${allowed.join(', ')} (got '${text}')`);
  return text as T;
}

function onOff(flag: string, text: string | undefined): boolean | undefined {
  const v = oneOf(flag, text, ['on', 'off'] as const);
  return v === undefined ? undefined : v === 'on';
}

const SIZE = 'a size such as 64GiB, 512MiB or 4G';
const RATE = 'a rate such as 128MiB/s, 10Gbit/s or 1.5GB/s';
const DURATION = 'a duration such as 300ms, 30s or 10m';

/** Which job-schema path each flag sets, to name the flag when the schema rejects a value (first prefix match). */
const FLAG_OF_PATH: Record<string, string> = {
  'vm.ram_bytes': '--ram',
  'vm.vcpus': '--vcpus',
  'vm.backing': '--backing',
  'vm.thp_coverage': '--thp-coverage',
  'vm.zero_fraction': '--zero-fraction',
  'vm.workload.pass_seconds': '--pass-time',
  'vm.workload.utilisation': '--utilisation',
  'vm.workload.touched_fraction': '--touched-fraction',
  'vm.workload.access': '--access',
  'vm.workload': '--workload',
  'vm.dirty_ring_size': '--dirty-ring-size',
  'migration.max_bandwidth_bytes_per_s': '--max-bandwidth',
  'migration.link_bandwidth_bytes_per_s': '--link-bandwidth',
  'migration.multifd_channels': '--multifd-channels',
  'migration.postcopy': '--postcopy-after',
  'migration.timeout_action': '--timeout-action',
  'migration.downtime_limit_s': '--downtime-limit',
  'migration.dirty_limit_bytes_per_s': '--dirty-limit',
  'migration.timeout_s': '--timeout',
  'migration.cancel_at_s': '--cancel-at',
  'migration.fail_at_s': '--fail-at',
  'migration.horizon_s': '--horizon',
  'probe.calc_time_s': '--calc-time',
  ...Object.fromEntries(Object.entries(KERNEL_FLAGS).map(([field, flag]) => [`kernel.${field}`, flag])),
  'probe.mode': '--probe-mode',
};

type Raw = Record<string, string | boolean | undefined>;
const str = (raw: Raw, k: string): string | undefined => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);

/** Builds and validates the job from the flags; every error names its flag. */
export function migrationJobFromFlags(raw: Raw): MigrationJob {
  const kind = oneOf('--workload', str(raw, 'workload'), WORKLOAD_KINDS) ?? 'uniform';
  const rate = unit('--dirty-rate', str(raw, 'dirtyRate'), parseRate, RATE);
  const activity = {
    utilisation: numberFlag('--utilisation', str(raw, 'utilisation'), 0, 1),
    touched_fraction: numberFlag('--touched-fraction', str(raw, 'touchedFraction'), 0, 1),
    access: oneOf('--access', str(raw, 'access'), ACCESS_PATTERNS),
  };
  let workload: MigrationJobInput['vm']['workload'];
  switch (kind) {
    case 'idle':
      workload = { kind, ...activity };
      break;
    case 'uniform':
      workload = {
        kind,
        dirty_rate_bytes_per_s: rate ?? 0,
        working_set: numberFlag('--working-set', str(raw, 'workingSet'), 0.000001, 1),
        read_share: numberFlag('--read-share', str(raw, 'readShare'), 0, 0.99),
        ...activity,
      };
      break;
    case 'hotcold':
      workload = {
        kind,
        dirty_rate_bytes_per_s: rate ?? 0,
        hot_fraction: numberFlag('--hot-fraction', str(raw, 'hotFraction'), 0.000001, 0.999999),
        hot_write_share: numberFlag('--hot-write-share', str(raw, 'hotWriteShare'), 0, 1),
        read_share: numberFlag('--read-share', str(raw, 'readShare'), 0, 0.99),
        ...activity,
      };
      break;
    case 'memstress':
      workload = {
        kind,
        write_percent: numberFlag('--write-percent', str(raw, 'writePercent'), 0, 100),
        pass_seconds: unit('--pass-time', str(raw, 'passTime'), parseDuration, DURATION),
        ...activity,
      };
      break;
  }
  const bailouts: Record<string, number> = {};
  for (const part of (str(raw, 'bailout') ?? '').split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)=([0-9.]+)$/.exec(part);
    const p = m ? Number(m[2]) : NaN;
    if (!m || !(PROMOTE_BAILOUTS as readonly string[]).includes(m[1]!) || !(p >= 0 && p <= 1)) {
      throw new CliError(`--bailout: '${part}' is not REASON=PROBABILITY with REASON one of ${PROMOTE_BAILOUTS.join(', ')}`);
    }
    bailouts[m[1]!] = p;
  }
  // Flags not given stay undefined: the job schema's defaults (QEMU's and KVM's) apply, as for jobs from scenarios.
  const input: MigrationJobInput = {
    kind: raw.probe === true ? 'dirty-rate-probe' : 'migration',
    model: oneOf('--model', str(raw, 'model'), ['migsim', 'simgrid'] as const),
    seed: numberFlag('--seed', str(raw, 'seed'), 0, 2 ** 31 - 1, true),
    vm: {
      ram_bytes: unit('--ram', str(raw, 'ram') ?? '8GiB', parseSizeStrict, SIZE)!,
      vcpus: numberFlag('--vcpus', str(raw, 'vcpus') ?? '4', 1, 4096, true)!,
      backing: oneOf('--backing', str(raw, 'backing'), BACKING_SOURCES),
      thp_coverage: numberFlag('--thp-coverage', str(raw, 'thpCoverage'), 0, 1),
      zero_fraction: numberFlag('--zero-fraction', str(raw, 'zeroFraction'), 0, 1),
      workload,
      dirty_ring_size: numberFlag('--dirty-ring-size', str(raw, 'dirtyRingSize'), 1, 2 ** 31, true),
    },
    migration: {
      max_bandwidth_bytes_per_s: unit('--max-bandwidth', str(raw, 'maxBandwidth'), parseRate, RATE),
      link_bandwidth_bytes_per_s: unit('--link-bandwidth', str(raw, 'linkBandwidth'), parseRate, RATE),
      multifd_channels: numberFlag('--multifd-channels', str(raw, 'multifdChannels'), 1, 255, true) ?? (raw.multifd === true ? QEMU_DEFAULTS.multifdChannels : undefined),
      downtime_limit_s: unit('--downtime-limit', str(raw, 'downtimeLimit'), parseDuration, DURATION),
      auto_converge: raw.autoConverge === true,
      dirty_limit_bytes_per_s: unit('--dirty-limit', str(raw, 'dirtyLimit'), parseRate, RATE),
      postcopy: numberFlag('--postcopy-after', str(raw, 'postcopyAfter'), 1, 1e9, true),
      timeout_s: unit('--timeout', str(raw, 'timeout'), parseDuration, DURATION),
      timeout_action: oneOf('--timeout-action', str(raw, 'timeoutAction'), TIMEOUT_ACTIONS),
      cancel_at_s: unit('--cancel-at', str(raw, 'cancelAt'), parseDuration, DURATION),
      fail_at_s: unit('--fail-at', str(raw, 'failAt'), parseDuration, DURATION),
      horizon_s: unit('--horizon', str(raw, 'horizon'), parseDuration, DURATION),
    },
    probe: { calc_time_s: unit('--calc-time', str(raw, 'calcTime'), parseDuration, DURATION), mode: oneOf('--probe-mode', str(raw, 'probeMode'), PROBE_MODES) },
    kernel: {
      release: str(raw, 'kernel'),
      cpu: oneOf('--cpu', str(raw, 'cpu'), CPU_MODEL_NAMES),
      tdp_mmu: onOff('--tdp-mmu', str(raw, 'tdpMmu')),
      nx_huge_pages: onOff('--nx-huge-pages', str(raw, 'nxHugePages')),
      strategy: oneOf('--strategy', str(raw, 'strategy'), DISABLE_STRATEGIES),
      eager_page_split: onOff('--eager-split', str(raw, 'eagerSplit')),
      pml: onOff('--pml', str(raw, 'pml')),
      fast_page_fault: onOff('--fast-page-fault', str(raw, 'fastPageFault')),
      manual_protect: onOff('--manual-protect', str(raw, 'manualProtect')),
      profile: str(raw, 'profile') === undefined ? undefined : profileFromFlag(str(raw, 'profile')!).spec,
    },
    bailouts,
  };
  const parsed = migrationJobSchema.safeParse(input);
  if (!parsed.success) {
    throw new CliError(
      parsed.error.issues
        .map((i) => {
          const path = i.path.join('.');
          const flag = Object.entries(FLAG_OF_PATH).find(([p]) => path.startsWith(p))?.[1] ?? path;
          return `${flag}: ${i.message}`;
        })
        .join('\n'),
    );
  }
  return parsed.data;
}

/** Bytes with a binary unit and up to three decimals. */
function bytes(n: number): string {
  for (const [u, m] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= m) return `${Number((n / m).toFixed(3))}${u}`;
  }
  return `${Math.round(n)}B`;
}

function formatResult(job: MigrationJob, r: MigrationResult): string {
  const lines: string[] = [];
  const what = r.job === 'dirty-rate-probe' ? `dirty-rate probe (calc-dirty-rate, ${r.probe_mode} mode)` : `migration (${r.model} model)`;
  lines.push(`${what}: ${formatSize(job.vm.ram_bytes)} RAM, ${job.vm.vcpus} vCPUs, ${job.vm.backing}, workload ${job.vm.workload.kind}`);
  lines.push(`status: ${r.status}${r.error_desc ? ` (${r.error_desc})` : ''}`);
  lines.push(`total time: ${formatDuration(r.total_time_s)}   setup: ${formatDuration(r.setup_time_s)}   downtime: ${r.downtime_s === null ? '-' : formatDuration(r.downtime_s)}   expected downtime: ${formatDuration(r.expected_downtime_s)}`);
  if (r.job === 'migration') {
    lines.push(`transferred: ${bytes(r.ram.transferred_bytes)}   remaining: ${bytes(r.ram.remaining_bytes)}   passes: ${r.rounds}   dirty syncs: ${r.dirty_sync_count}   throttle: ${r.cpu_throttle_percentage}%   dirty pages rate: ${r.ram.dirty_pages_rate.toFixed(0)}/s`);
  } else {
    lines.push(`measured dirty rate: ${formatRate(r.measured_dirty_rate_bytes_per_s ?? 0)}`);
  }
  if (r.postcopy_started_at_s !== null) lines.push(`post-copy from ${formatDuration(r.postcopy_started_at_s)}: ${r.postcopy_page_requests} page requests from the destination`);
  lines.push(`dirty logging stopped on the source: ${r.dirty_log_stop}${r.dirty_log_stopped_at_s !== null ? `, the stop began at ${formatDuration(r.dirty_log_stopped_at_s)}` : ''}`);
  if (!r.mmu) {
    lines.push('MMU: not modelled by the SimGrid model');
    return lines.join('\n');
  }
  lines.push('');
  lines.push(`MMU cost on the source, per disable strategy (in effect: ${r.strategy_in_effect}):`);
  const header = ['strategy', 'enable', 'disable', 'flushes', 'faults', 'refaults', 'PML writes', 'vCPU stall', 'host CPU', 'huge pages back'];
  const rows = DISABLE_STRATEGIES.map((s) => {
    const b = r.mmu![s]!;
    return [
      s,
      formatDuration(b.enable_s),
      b.disable_ran ? formatDuration(b.disable_s) : 'never ran',
      String(b.remote_tlb_flushes),
      String(b.page_faults),
      String(b.page_faults_by_kind.refault),
      String(b.pml_logged_writes),
      formatDuration(b.vcpu_stall_s),
      formatDuration(b.host_cpu_s),
      !b.disable_ran ? '-' : b.huge_coverage_restored_s === null ? 'never' : `after ${formatDuration(b.huge_coverage_restored_s)}`,
    ];
  });
  table(lines, header, rows);
  lines.push('');
  lines.push('Whole cost per disable strategy: host CPU (s) and guest time lost (vCPU-s), by component (* = depends on the strategy):');
  const costs = DISABLE_STRATEGIES.map((s) => wholeCost(r, s));
  const sum = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
  const costRows: string[][] = [];
  for (const c of HOST_CPU_COMPONENTS) costRows.push([`host CPU ${c}${HOST_CPU_BY_STRATEGY[c] ? ' *' : ''}`, ...costs.map((w) => formatDuration(w.host_cpu[c]))]);
  costRows.push(['host CPU total', ...costs.map((w) => formatDuration(sum(w.host_cpu)))]);
  for (const c of GUEST_IMPACT_COMPONENTS) costRows.push([`guest ${c}${GUEST_IMPACT_BY_STRATEGY[c] ? ' *' : ''}`, ...costs.map((w) => formatDuration(w.guest_impact[c]))]);
  costRows.push(['guest total', ...costs.map((w) => formatDuration(sum(w.guest_impact)))]);
  const share = (part: number, total: number) => (total > 0 ? `${((part / total) * 100).toFixed(1)}%` : '-');
  costRows.push(['disable share of host CPU', ...costs.map((w) => share(w.host_cpu.disable, sum(w.host_cpu)))]);
  costRows.push([
    'disable share of guest time',
    ...costs.map((w) => share(GUEST_IMPACT_COMPONENTS.reduce((a, c) => a + (GUEST_IMPACT_OF_DISABLE[c] ? w.guest_impact[c] : 0), 0), sum(w.guest_impact))),
  ]);
  table(lines, ['component', ...DISABLE_STRATEGIES], costRows);
  return lines.join('\n');
}

/** Appends `rows` under `header` as aligned columns. */
function table(lines: string[], header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) lines.push(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function migrateCommand(out: (text: string) => void): Command {
  const o = (flags: string, help: string) => new Option(flags, help);
  return new Command('migrate')
    .description(
      'Simulate one QEMU precopy live migration (or, with --probe, one calc-dirty-rate probe) of one VM on the MMU model, ' +
        'and report it like query-migrate plus the source MMU cost under each disable strategy.',
    )
    .helpOption('-h, --help', 'show this help')
    .addOption(o('--ram <size>', 'guest RAM (default 8GiB)'))
    .addOption(o('--vcpus <n>', 'vCPUs (default 4)'))
    .addOption(o('--backing <src>', `host backing: ${BACKING_SOURCES.join(', ')} (default anonymous_thp)`))
    .addOption(o('--thp-coverage <fraction>', 'anonymous_thp: fraction of 2MiB regions backed by a THP (default 1)'))
    .addOption(o('--zero-fraction <fraction>', 'fraction of RAM that is zero pages (default 0)'))
    .addOption(o('--workload <kind>', `guest workload: ${WORKLOAD_KINDS.join(', ')} (default uniform)`))
    .addOption(o('--dirty-rate <rate>', 'uniform/hotcold: page writes per second × 4KiB, e.g. 200MiB/s (default 0)'))
    .addOption(o('--working-set <fraction>', 'uniform: fraction of RAM written (default 1)'))
    .addOption(o('--hot-fraction <fraction>', 'hotcold: fraction of RAM that is hot (default 0.1)'))
    .addOption(o('--hot-write-share <fraction>', 'hotcold: share of writes to the hot set (default 0.9)'))
    .addOption(o('--read-share <fraction>', 'uniform/hotcold: share of accesses that are reads (default 0.5)'))
    .addOption(o('--write-percent <pct>', 'memstress: percentage of pages written per pass (default 100)'))
    .addOption(o('--pass-time <duration>', 'memstress: time of one pass over a vCPU slice (default 1s)'))
    .addOption(o('--utilisation <fraction>', 'fraction of the vCPUs in guest mode (default 0 for idle, 1 otherwise)'))
    .addOption(o('--touched-fraction <fraction>', 'fraction of RAM the guest has touched since boot, mapped by KVM; the rest is zero pages (default 1)'))
    .addOption(o('--access <pattern>', `guest access pattern: ${ACCESS_PATTERNS.join(', ')} (default sequential for memstress, random otherwise)`))
    .addOption(o('--dirty-ring-size <n>', "KVM dirty ring entries per vCPU (QEMU's -accel kvm,dirty-ring-size; a power of two); default: dirty bitmap"))
    .addOption(o('--max-bandwidth <rate>', 'QEMU max-bandwidth (default 128MiB/s)'))
    .addOption(o('--link-bandwidth <rate>', 'bandwidth of the link: precopy sends at the lesser of this and max-bandwidth, stop-and-copy and post-copy at this (default 10Gbit/s)'))
    .addOption(o('--multifd', `enable the multifd capability with QEMU's default ${QEMU_DEFAULTS.multifdChannels} channels`))
    .addOption(o('--multifd-channels <n>', 'enable multifd with this many channels'))
    .addOption(o('--downtime-limit <duration>', 'QEMU downtime-limit (default 300ms)'))
    .addOption(o('--auto-converge', 'enable the auto-converge capability (20% initial, +10%, max 99%)'))
    .addOption(o('--dirty-limit <rate>', 'enable dirty-limit with this per-vCPU dirty rate (needs --dirty-ring-size; not with --auto-converge)'))
    .addOption(o('--postcopy-after <passes>', 'switch to post-copy after this many precopy passes'))
    .addOption(o('--timeout <duration>', 'completion timeout'))
    .addOption(o('--timeout-action <action>', `what the completion timeout does: ${TIMEOUT_ACTIONS.join(', ')} (default abort)`))
    .addOption(o('--cancel-at <duration>', 'cancel the migration at this time'))
    .addOption(o('--fail-at <duration>', 'the destination fails at this time'))
    .addOption(o('--horizon <duration>', 'report a migration still running after this long as active (default 24h)'))
    .addOption(o('--probe', 'run a dirty-rate probe (calc-dirty-rate) instead of a migration'))
    .addOption(o('--calc-time <duration>', 'probe: calc-time (default 1s)'))
    .addOption(o('--probe-mode <mode>', `probe: calc-dirty-rate mode, ${PROBE_MODES.join(', ')} (default page-sampling)`))
    .addOption(o('--kernel <release>', `source host's kernel release MAJOR.MINOR, ${OLDEST_RELEASE} to ${NEWEST_RELEASE}, e.g. ${COMMON_RELEASES.join(', ')}: its defaults and code paths (default ${DEFAULT_RELEASE})`))
    .addOption(o('--cpu <model>', `source host's CPU: ${CPU_MODEL_NAMES.join(', ')} (default ${DEFAULT_CPU})`))
    .addOption(o('--tdp-mmu <on|off>', "kvm.tdp_mmu: the TDP MMU, or the shadow MMU with rmaps (default: the release's)"))
    .addOption(o('--nx-huge-pages <on|off>', 'kvm.nx_huge_pages (default auto: on where the CPU has iTLB multihit)'))
    .addOption(
      o(
        '--strategy <name>',
        `disable strategy in effect on the host: ${DISABLE_STRATEGIES.join(', ')} (default: the release's for its MMU; ` +
          'zap-batched is a counterfactual, no release shipped it); every strategy is reported',
      ),
    )
    .addOption(o('--eager-split <on|off>', "kvm.eager_page_split (default: the release's; TDP MMU only)"))
    .addOption(o('--pml <on|off>', 'kvm_intel.pml (default: on where the CPU has PML)'))
    .addOption(o('--fast-page-fault <on|off>', "TDP MMU fast page fault (default: the release's)"))
    .addOption(o('--manual-protect <on|off>', 'KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with initially-set (default on)'))
    .addOption(o('--bailout <list>', `promotion bail-out likelihoods, REASON=P,... (${PROMOTE_BAILOUTS.join(', ')})`))
    .addOption(o('--model <name>', "'migsim' (default) or 'simgrid' (SimGrid's precopy model, no MMU)"))
    .addOption(o('--profile <name|file>', "cost profile: 'default' or a JSON file of overrides"))
    .addOption(o('--seed <n>', 'seed (default 1)'))
    .addOption(o('--json', 'print the result record as JSON'))
    .action((raw: Raw) => {
      const job = migrationJobFromFlags(raw);
      const profile = resolveProfile(job.kernel.profile);
      const result = runMigrationJob(job, profile);
      out(raw.json === true ? JSON.stringify(result, null, 2) : formatResult(job, result));
    });
}
