import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFleet } from '../fleet/build-fleet.js';
import type { Host } from '../fleet/build-fleet.js';
import type { FleetRunResult, JobRecord } from '../fleet/fleet-run-result.js';
import { FleetSimulation } from '../fleet/fleet-simulation.js';
import type { Progress } from '../fleet/progress.js';
import type { JobTransport } from '../fleet/job-transport.js';
import { canonicalJson } from '../../common/canonical-json.js';
import { hostCpuLedger, ledgerInputOf, type HostCpuLedger } from '../report/host-cpu-ledger.js';
import { reportHtml } from '../report/report-html.js';
import { jobsCsv, summarize, type RunSummary } from '../report/run-summary.js';
import type { Scenario } from '../scenario/scenario-schema.js';

/** A run id derived from the scenario and seed: the same experiment always has the same id (resumable). */
export function runIdFor(scenario: Scenario): string {
  return `run-${createHash('sha256').update(canonicalJson(scenario)).digest('hex').slice(0, 12)}`;
}

export interface ExperimentOptions {
  readonly scenario: Scenario;
  readonly transport: JobTransport;
  readonly runId?: string;
  readonly outDir?: string;
  readonly onProgress?: (p: Progress) => void;
  /** Called as each job's result is applied (in simulated-time order), with its source host. */
  readonly onJobDone?: (record: JobRecord, srcHost: Host) => void;
}

export interface ExperimentResult {
  readonly summary: RunSummary;
  readonly run: FleetRunResult;
  /** Host CPU as a shared resource over the run (its totals are `summary.host_cpu_ledger`). */
  readonly ledger: HostCpuLedger;
}

/**
 * Runs a scenario with the given transport and, when `outDir` is set, writes `summary.json`, `jobs.csv` and
 * `report.html` there.
 */
export async function runExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  // Before the run: a folder that cannot be created fails now, not after the simulation.
  if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });
  const scenario = opts.scenario;
  const fleet = buildFleet(scenario);
  const runId = opts.runId ?? runIdFor(scenario);
  const sim = new FleetSimulation(scenario, fleet, runId, opts.transport, opts.onProgress, opts.onJobDone);
  const run = await sim.run();
  const wallS = (performance.now() - t0) / 1e3;
  const ledger = hostCpuLedger(ledgerInputOf(scenario, fleet, run.jobs, run.endS));
  const summary = summarize(scenario.name, scenario.seed, runId, run, wallS, ledger);
  if (opts.outDir) {
    writeFileSync(join(opts.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(opts.outDir, 'jobs.csv'), jobsCsv(run.jobs));
    const fleetRam = fleet.vms.reduce((a, v) => a + v.ramBytes, 0);
    writeFileSync(join(opts.outDir, 'report.html'), reportHtml(summary, run.jobs, fleetRam, { ledger, network: run.network, waves: run.waves }));
  }
  return { summary, run, ledger };
}
