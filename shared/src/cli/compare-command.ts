import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { runExperiment } from '../cluster/experiment/run-experiment.js';
import { EmbeddedTransport } from '../cluster/fleet/embedded-transport.js';
import { DISABLE_STRATEGIES } from '../kernel/mmu/disable-strategy.js';
import { STRATEGY_COLORS } from '../cluster/report/report-html.js';
import type { RunSummary } from '../cluster/report/run-summary.js';
import { escapeHtml, groupedBarChart } from '../cluster/report/svg-charts.js';
import { CliError } from './cli-error.js';

import { scenarioFromArg } from './scenario-arg.js';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Whether a parsed summary.json has every part the comparison reads. */
function isRunSummary(s: unknown): s is RunSummary {
  return (
    isObject(s) &&
    typeof s.scenario === 'string' &&
    typeof s.digest === 'string' &&
    [s.migrations, s.migration_time_s, s.downtime_s, s.strategy_in_effect].every(isObject) &&
    isObject(s.strategies) &&
    DISABLE_STRATEGIES.every((k) => isObject((s.strategies as Record<string, unknown>)[k]))
  );
}

async function summaryOf(arg: string): Promise<RunSummary> {
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    const f = join(arg, 'summary.json');
    if (!existsSync(f)) throw new CliError(`${arg}: no summary.json in this folder (is it a migsim run folder?)`);
    let summary: unknown;
    try {
      summary = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new CliError(`${f}: cannot read it as JSON: ${(e as Error).message}`);
    }
    if (!isRunSummary(summary)) throw new CliError(`${f}: not a migsim run summary (written by migsim run)`);
    return summary;
  }
  const { scenario } = scenarioFromArg(arg);
  return (await runExperiment({ scenario, transport: new EmbeddedTransport() })).summary;
}

/** `migsim compare A B`: two run folders or two scenarios, side by side. */
export function compareCommand(out: (text: string) => void): Command {
  return new Command('compare')
    .description('Compare two runs (run folders, or scenarios to run now): a table of the differences, and optionally an HTML chart.')
    .helpOption('-h, --help', 'show this help')
    .argument('<a>', 'run folder or scenario')
    .argument('<b>', 'run folder or scenario')
    .addOption(new Option('--html <file>', 'also write the comparison as an HTML page with a chart'))
    .action(async (a: string, b: string, opts: { html?: string }) => {
      const [sa, sb] = [await summaryOf(a), await summaryOf(b)];
      const rows: [string, number | null, number | null][] = [
        ['migrations', sa.migrations.total, sb.migrations.total],
        ['completed', sa.migrations.completed, sb.migrations.completed],
        ['cancelled', sa.migrations.cancelled, sb.migrations.cancelled],
        ['failed', sa.migrations.failed, sb.migrations.failed],
        ['probes', sa.probes, sb.probes],
        ['makespan (s)', sa.makespan_s, sb.makespan_s],
        ['migration time p50 (s)', sa.migration_time_s.p50, sb.migration_time_s.p50],
        ['downtime p99 (s)', sa.downtime_s.p99, sb.downtime_s.p99],
        ...DISABLE_STRATEGIES.flatMap((s): [string, number, number][] => [
          [`${s} disable (s)`, sa.strategies[s].disable_s, sb.strategies[s].disable_s],
          [`${s} vCPU stall (s)`, sa.strategies[s].vcpu_stall_s, sb.strategies[s].vcpu_stall_s],
          [`${s} host CPU (s)`, sa.strategies[s].host_cpu_s, sb.strategies[s].host_cpu_s],
        ]),
        ['in effect: host CPU (s)', sa.strategy_in_effect.host_cpu_s, sb.strategy_in_effect.host_cpu_s],
      ];
      const f = (x: number | null) => (x === null ? '-' : Number(x.toPrecision(6)).toString());
      const lines = [`${'metric'.padEnd(26)} ${'A'.padStart(14)} ${'B'.padStart(14)} ${'B - A'.padStart(14)} ${'B / A'.padStart(8)}`];
      for (const [name, x, y] of rows) {
        const d = x !== null && y !== null ? y - x : null;
        const r = x !== null && y !== null && x !== 0 ? y / x : null;
        lines.push(`${name.padEnd(26)} ${f(x).padStart(14)} ${f(y).padStart(14)} ${f(d).padStart(14)} ${(r === null ? '-' : r.toFixed(3)).padStart(8)}`);
      }
      lines.unshift(`A: ${sa.scenario} (seed ${sa.seed}, digest ${sa.digest.slice(0, 12)})`, `B: ${sb.scenario} (seed ${sb.seed}, digest ${sb.digest.slice(0, 12)})`);
      out(lines.join('\n'));
      if (opts.html) {
        const chart = groupedBarChart(
          'Host CPU spent on dirty logging, per strategy (s)',
          'seconds',
          DISABLE_STRATEGIES,
          [
            { name: `A: ${sa.scenario}`, color: '#888', values: DISABLE_STRATEGIES.map((s) => sa.strategies[s].host_cpu_s) },
            { name: `B: ${sb.scenario}`, color: STRATEGY_COLORS.promote, values: DISABLE_STRATEGIES.map((s) => sb.strategies[s].host_cpu_s) },
          ],
        );
        const page = `<!doctype html><html><head><meta charset="utf-8"><title>migsim compare</title></head><body><h1>migsim compare</h1><pre>${escapeHtml(lines.join('\n'))}</pre>${chart}</body></html>\n`;
        try {
          writeFileSync(opts.html, page);
        } catch (e) {
          throw new CliError(`--html: cannot write ${opts.html}: ${(e as Error).message}`);
        }
      }
    });
}
