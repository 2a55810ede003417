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
import { HostCpuLedgerAccumulator, ledgerInputOf, type HostCpuLedger } from '../report/host-cpu-ledger.js';
import { reportHtml } from '../report/report-html.js';
import { ReportAccumulator } from '../report/report-series.js';
import { SummaryAccumulator, type RunSummary } from '../report/run-summary.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { JobsCsvWriter, JobsNdjsonWriter } from './record-writers.js';

/** A run id derived from the scenario and seed: the same experiment always has the same id (resumable). */
export function runIdFor(scenario: Scenario): string {
  return `run-${createHash('sha256').update(canonicalJson(scenario)).digest('hex').slice(0, 12)}`;
}

export interface ExperimentOptions {
  readonly scenario: Scenario;
  readonly transport: JobTransport;
  readonly runId?: string;
  readonly outDir?: string;
  /** With `outDir`: also write `jobs.ndjson` (default true). */
  readonly ndjson?: boolean;
  /** Keep every record and return them as `run.jobs` (by serial), as runs did before records were streamed; default false. */
  readonly keepRecords?: boolean;
  readonly onProgress?: (p: Progress) => void;
  /** Called as each job's record joins the run (in completion order on the coordinator's clock), with its source host. */
  readonly onJobDone?: (record: JobRecord, srcHost: Host) => void;
}

export interface ExperimentResult {
  readonly summary: RunSummary;
  /** The run's shape; `jobs` is empty unless `keepRecords` was set (the records were streamed). */
  readonly run: FleetRunResult;
  /** Host CPU as a shared resource over the run (its totals are `summary.host_cpu_ledger`). */
  readonly ledger: HostCpuLedger;
  /** The summary's accumulator: totals and quantile sketches, to merge into a region's. */
  readonly accumulator: SummaryAccumulator;
}

/**
 * Runs a scenario with the given transport, streaming each record as it joins the run into the summary's
 * accumulator, the host CPU ledger, the report's bounded series and, when `outDir` is set, `jobs.csv` and
 * `jobs.ndjson`; then writes `summary.json` and `report.html` there. No list of the records is kept (unless
 * `keepRecords`).
 */
export async function runExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  // Before the run: a folder that cannot be created fails now, not after the simulation.
  if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });
  const scenario = opts.scenario;
  const fleet = buildFleet(scenario);
  const runId = opts.runId ?? runIdFor(scenario);
  const acc = new SummaryAccumulator();
  const { jobs: _none, endS: _end, ...ledgerSetup } = ledgerInputOf(scenario, fleet, [], 0);
  const ledgerAcc = new HostCpuLedgerAccumulator(ledgerSetup);
  const report = opts.outDir ? new ReportAccumulator() : null;
  const csv = opts.outDir ? new JobsCsvWriter(join(opts.outDir, 'jobs.csv')) : null;
  const ndjson = opts.outDir && opts.ndjson !== false ? new JobsNdjsonWriter(join(opts.outDir, 'jobs.ndjson')) : null;
  const kept: JobRecord[] = [];
  const sink = (record: JobRecord): void => {
    acc.add(record);
    ledgerAcc.add(record);
    report?.add(record);
    csv?.add(record);
    ndjson?.add(record);
    if (opts.keepRecords) kept.push(record);
  };
  let run: FleetRunResult;
  try {
    const sim = new FleetSimulation(scenario, fleet, runId, opts.transport, opts.onProgress, opts.onJobDone, sink);
    run = await sim.run();
  } finally {
    csv?.close();
    ndjson?.close();
  }
  if (opts.keepRecords) run = { ...run, jobs: kept.sort((a, b) => a.serial - b.serial) };
  const wallS = (performance.now() - t0) / 1e3;
  const ledger = ledgerAcc.finish(run.endS);
  const summary = acc.finish({ scenario: scenario.name, seed: scenario.seed, runId, run, wallS, ledger });
  if (opts.outDir && report) {
    writeFileSync(join(opts.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const fleetRam = fleet.vms.reduce((a, v) => a + v.ramBytes, 0);
    writeFileSync(join(opts.outDir, 'report.html'), reportHtml(summary, report.finish(), fleetRam, { ledger, network: run.network, waves: run.waves }));
  }
  return { summary, run, ledger, accumulator: acc };
}
