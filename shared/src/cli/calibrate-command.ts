import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { CalibrationInconsistent } from '../kernel/calibration/errors/calibration-inconsistent.js';
import { CalibrationUnderdetermined } from '../kernel/calibration/errors/calibration-underdetermined.js';
import { SelftestOutputInvalid } from '../kernel/calibration/errors/selftest-output-invalid.js';
import { fitProfile, type FitResult } from '../kernel/calibration/fit-profile.js';
import { parseSelftestRun } from '../kernel/calibration/parse-selftest-run.js';
import type { SelftestRun } from '../kernel/calibration/selftest-run.js';
import { KernelSettingsInvalid } from '../kernel/host/errors/kernel-settings-invalid.js';
import { COMMON_RELEASES, NEWEST_RELEASE, OLDEST_RELEASE } from '../kernel/host/kernel-version.js';
import { resolveKvmHost } from '../kernel/host/resolve-kvm-host.js';
import { COST_KEYS, type ProfileOverrides } from '../kernel/mmu/cost-profile.js';
import { CliError } from './cli-error.js';
import { withKernelFlags } from './kernel-flags.js';
import { profileFromFlag } from './profile-flag.js';

interface CalibrateFlags {
  readonly kernel?: string;
  readonly base: string;
  readonly out?: string;
  readonly json: boolean;
}

/**
 * Reads the RUN files. The one place `migsim calibrate` turns a file into a SelftestRun: every file is read and
 * parsed before anything is fitted, and every bad file is reported (file, line, what was expected).
 */
function readRuns(files: readonly string[]): SelftestRun[] {
  const runs: SelftestRun[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(`${file}: cannot read: ${(e as Error).message}`);
      continue;
    }
    try {
      runs.push(parseSelftestRun(text, file));
    } catch (e) {
      if (e instanceof SelftestOutputInvalid) problems.push(e.message);
      else throw e;
    }
  }
  if (problems.length > 0) throw new CliError(problems.join('\n'));
  return runs;
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const sig = (x: number): string => String(Number(x.toPrecision(6)));

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The two tables (runs, constants), the kernels and any contradictions, as text. */
export function formatFit(fit: FitResult): string {
  const out: string[] = ['Kernels (from each run\'s header, or --kernel):'];
  for (const k of fit.kernels) out.push(`  ${k.source}: ${k.release}, ${k.cpu}, ${k.tdpMmu ? 'TDP MMU' : 'shadow MMU'}, PML ${k.pml ? 'on' : 'off'}, disables by ${k.strategy}`);
  out.push('', 'Runs: measured, fitted, residual (fitted / measured - 1)');
  out.push(...table(['run', 'phase', 'measured s', 'fitted s', 'residual'], fit.rows.map((r) => [r.source, r.phase, r.measuredS.toFixed(9), r.fittedS.toFixed(9), pct(r.residual)])).map((l) => `  ${l}`));
  out.push('', 'Constants: value, the base\'s, how well the runs determine it');
  out.push(
    ...table(
      ['constant', 'value', 'base', 'status', 'per 1% noise', 'std err', 'leave-one-out', 'determined by'],
      fit.constants.map((c) => [
        c.key,
        sig(c.value),
        sig(c.baseValue),
        c.status,
        c.sensitivity === null ? '-' : `±${(c.sensitivity * 100).toFixed(1)} %`,
        c.relativeStandardError === null ? '-' : `±${(c.relativeStandardError * 100).toFixed(2)} %`,
        c.status === 'kept' ? '-' : c.leaveOneOutSpread === null ? `needs ${c.dependsOn.join(', ')}` : `±${(c.leaveOneOutSpread * 100).toFixed(2)} %`,
        c.status === 'kept'
          ? 'no run (kept from the base)'
          : c.determinedBy
              .slice(0, 3)
              .map((d) => `${d.source} ${d.phase.replace(/ time$/, '')} (${Math.round(d.share * 100)} %)`)
              .join('; '),
      ]),
    ).map((l) => `  ${l}`),
  );
  const kept = fit.constants.filter((c) => c.note !== undefined);
  if (kept.length > 0) {
    out.push('', 'Kept from the base:');
    for (const c of kept) out.push(`  ${c.key}: ${c.note}`);
  }
  if (fit.contradictions.length > 0) {
    out.push('', 'Contradictions: runs of one configuration that disagree beyond noise (not averaged away: check the host was idle):');
    for (const c of fit.contradictions) {
      out.push(`  ${c.configuration}, ${c.phase}:`);
      for (const r of c.runs) out.push(`    ${r.source}: measured ${r.measuredS.toFixed(9)} s, fitted ${r.fittedS.toFixed(9)} s, residual ${pct(r.residual)}`);
    }
  }
  out.push('', `rms residual ${(fit.rmsResidual * 100).toFixed(2)} % over ${fit.rows.length} phases of ${fit.kernels.length} runs; ${fit.rounds} rounds`);
  return out.join('\n');
}

/** The fit as JSON (`--json`). */
export function fitJson(fit: FitResult): unknown {
  return {
    profile: profileFileOf(fit, 'default'),
    kernels: fit.kernels,
    runs: fit.rows.map((r) => ({ run: r.source, phase: r.phase, measured_s: r.measuredS, fitted_s: r.fittedS, residual: r.residual })),
    constants: fit.constants.map((c) => ({
      constant: c.key,
      status: c.status,
      value: c.value,
      base: c.baseValue,
      per_percent_noise: c.sensitivity,
      relative_standard_error: c.relativeStandardError,
      leave_one_out_spread: c.leaveOneOutSpread,
      depends_on: c.dependsOn,
      determined_by: c.determinedBy.map((d) => ({ run: d.source, phase: d.phase, share: d.share })),
      ...(c.note !== undefined && { note: c.note }),
    })),
    contradictions: fit.contradictions,
    rms_residual: fit.rmsResidual,
    rounds: fit.rounds,
  };
}

/** The profile file `--profile FILE` reads: every constant, so it does not depend on the base's future values. */
function profileFileOf(fit: FitResult, base: string): ProfileOverrides {
  return {
    name: fit.profile.name,
    base,
    costs: Object.fromEntries(COST_KEYS.map((k) => [k, Number(fit.profile.costs[k].toPrecision(12))])),
    params: { cond_resched_interval_ns: fit.profile.params.cond_resched_interval_ns },
  };
}

/** `migsim calibrate RUN...`: a cost profile fitted to the user's dirty_log_perf_test runs. */
export function calibrateCommand(out: (text: string) => void): Command {
  return new Command('calibrate')
    .description(
      "Fit the cost profile's fitted constants to your own dirty_log_perf_test runs (each RUN a file: an optional host header, " +
        'the command line, then the selftest output); print every run phase (measured, fitted, residual) and every constant ' +
        '(value, which runs determine it, how well), and write a profile JSON that --profile accepts. See docs/calibrate.md.',
    )
    .helpOption('-h, --help', 'show this help')
    .argument('<RUN...>', 'dirty_log_perf_test output files')
    .addOption(new Option('--kernel <release>', `host kernel release MAJOR.MINOR (${OLDEST_RELEASE} to ${NEWEST_RELEASE}, e.g. ${COMMON_RELEASES.join(', ')}) for every run, over what the runs' headers say (default: each header's uname -r, else the default release)`))
    .addOption(new Option('--base <name|file>', "profile to start from: its assumed constants are kept ('default' or a JSON file of overrides)").default('default'))
    .addOption(new Option('--out <file>', 'write the fitted profile here (JSON, for --profile); nothing is written when the fit fails'))
    .addOption(new Option('--json', 'print the fit as JSON').default(false))
    .action((files: string[], flags: CalibrateFlags) => {
      const base = profileFromFlag(flags.base, '--base');
      const release = flags.kernel;
      if (release !== undefined) withKernelFlags(() => resolveKvmHost({ release }));
      const runs = readRuns(files);
      let fit: FitResult;
      try {
        fit = fitProfile(runs, { base: base.profile, ...(flags.kernel !== undefined && { kernel: flags.kernel }) });
      } catch (e) {
        if (e instanceof CalibrationUnderdetermined || e instanceof CalibrationInconsistent) throw new CliError(e.message);
        if (e instanceof KernelSettingsInvalid) throw new CliError(e.issues.map((i) => `${i.field === 'release' ? '--kernel or uname -r' : i.field}: ${i.message}`).join('\n'));
        throw e;
      }
      const baseName = typeof base.spec === 'string' ? base.spec : (base.spec.base ?? 'default');
      const file = profileFileOf(fit, baseName);
      if (flags.out !== undefined) {
        try {
          writeFileSync(flags.out, `${JSON.stringify(file, null, 2)}\n`);
        } catch (e) {
          throw new CliError(`--out: cannot write ${flags.out}: ${(e as Error).message}`);
        }
      }
      if (flags.json) out(JSON.stringify({ ...(fitJson(fit) as object), profile: file }, null, 2));
      else out(`${formatFit(fit)}${flags.out !== undefined ? `\nwrote ${flags.out} (use it with --profile ${flags.out})` : ''}`);
    });
}
