import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { createLogger } from '../common/logger.js';
import { parseDuration } from '../common/units.js';
import { SweepInvalid } from '../cluster/experiment/errors/sweep-invalid.js';
import { scenarioInput } from '../cluster/experiment/load-experiment-scenario.js';
import { embeddedSweepRunner, runSweep, type SweepRunner } from '../cluster/experiment/run-sweep.js';
import { parseSetFlag, sweepGrid, type SweepGrid, type SweepPoint } from '../cluster/experiment/sweep-grid.js';
import { formatPlannerTable, plannerTable, sweepCsv, sweepHtml } from '../cluster/experiment/sweep-outputs.js';
import { DEFAULT_PREFIX } from '../cluster/queue/queue-names.js';
import { CliError } from './cli-error.js';
import { interruptNotice } from './interrupt-notice.js';
import { redisUrlFlag } from './redis-url-flag.js';
import { numberFlag } from './flag-values.js';
import { sweepProgressReporter } from './progress-reporter.js';
import { scenarioFromArg } from './scenario-arg.js';

interface SweepFlags {
  set: string[];
  seeds?: string;
  redis?: string;
  out?: string;
  window?: string;
  impactBudget?: string;
  quiet?: boolean;
}

/** The grid from the flags; every problem is a usage error (the validator's messages, with the `--set` to blame). */
function gridOf(file: string, flags: SweepFlags): SweepGrid {
  const seeds = numberFlag('--seeds', flags.seeds, 1, 10_000, true) ?? 1;
  try {
    return sweepGrid(scenarioInput(file), flags.set.map(parseSetFlag), seeds, file);
  } catch (e) {
    if (e instanceof SweepInvalid) throw new CliError(e.message);
    throw e;
  }
}

export function sweepCommand(out: (text: string) => void): Command {
  return new Command('sweep')
    .description(
      'Run a scenario over a grid of settings (every combination of the --set values, each with --seeds seeds) and answer which ' +
        'settings finish within a maintenance window and a guest-impact budget under each disable strategy. Writes sweep.csv and sweep.html.',
    )
    .helpOption('-h, --help', 'show this help')
    .argument('<scenario>', 'scenario file, or a bundled scenario name (quick, rack-drain, …)')
    .addOption(
      new Option('--set <path=values>', 'a scenario key and the values to try, comma-separated YAML values (e.g. policies.maintenance.max_outbound=1,2); repeat for a grid')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
        .default([]),
    )
    .addOption(new Option('--seeds <n>', 'seeds per combination: the scenario seed, seed+1, … (default 1)'))
    .addOption(new Option('--window <duration>', 'maintenance window the evacuation must finish in, e.g. 8h'))
    .addOption(new Option('--impact-budget <vcpu-s>', 'guest impact allowed per migration, vCPU-seconds (the run\'s guest time lost divided by its migrations)'))
    .addOption(new Option('--redis <url>', 'coordinate each run through the queues on this Redis, for `migsim worker` processes (QUEUE_PREFIX as for run)'))
    .addOption(new Option('--out <dir>', 'output folder (default out/sweep-<scenario>)'))
    .addOption(new Option('--quiet', 'no progress output'))
    .action(async (arg: string, flags: SweepFlags) => {
      const { file } = scenarioFromArg(arg);
      const grid = gridOf(file, flags);
      let windowS: number | undefined;
      if (flags.window !== undefined) {
        windowS = parseDuration(flags.window);
        if (windowS === undefined || !(windowS > 0)) throw new CliError(`--window: '${flags.window}' is not a duration such as 8h`);
      }
      const impactBudget = numberFlag('--impact-budget', flags.impactBudget, 0, Number.MAX_VALUE);
      const outDir = flags.out ?? join('out', `sweep-${basename(file).replace(/\.ya?ml$/, '')}`);
      // A region point writes its clusters' outputs here (a region's outputs are folders of their own).
      const regionOutDir = (point: SweepPoint): string => resolve(outDir, 'regions', point.runId);
      let runner: SweepRunner;
      if (flags.redis !== undefined) {
        await redisUrlFlag(flags.redis);
        const { redisSweepRunner } = await import('../cluster/experiment/run-sweep.js');
        runner = redisSweepRunner({ redisUrl: flags.redis, prefix: process.env.QUEUE_PREFIX ?? DEFAULT_PREFIX, logger: createLogger('coordinator', 'warn'), regionOutDir });
      } else {
        runner = embeddedSweepRunner({ regionOutDir });
      }
      try {
        mkdirSync(outDir, { recursive: true });
      } catch (e) {
        throw new CliError(`--out: cannot create the folder ${outDir}: ${(e as Error).message}`);
      }
      const progress = flags.quiet ? undefined : sweepProgressReporter();
      const removeShutdown = interruptNotice({ name: 'sweep', progress, stop: () => runner.close(), notice: `interrupted; sweep.csv was not written.${flags.redis ? ' Finished jobs stay in Redis: the same command resumes them.' : ''}` });
      const t0 = performance.now();
      try {
        const rows = await runSweep({ grid, runner, ...(progress ? { onProgress: progress.update } : {}) });
        progress?.done();
        const limits = { windowS, impactBudget };
        const entries = plannerTable(rows, limits);
        writeFileSync(join(outDir, 'sweep.csv'), sweepCsv(rows, grid.sets));
        writeFileSync(join(outDir, 'sweep.html'), sweepHtml(rows[0]?.point.scenario.name ?? basename(file), rows, grid.sets, entries, limits));
        out(formatPlannerTable(entries, grid.sets, limits));
        out(`wrote ${join(outDir, 'sweep.csv')}, ${join(outDir, 'sweep.html')} (${rows.length} runs, ${((performance.now() - t0) / 1e3).toFixed(2)} s)`);
      } catch (e) {
        const { RedisUnreachable } = await import('../cluster/queue/errors/redis-unreachable.js');
        if (e instanceof RedisUnreachable) throw new CliError(`--redis: ${e.message}`);
        throw e;
      } finally {
        removeShutdown();
        await runner.close();
      }
    });
}
