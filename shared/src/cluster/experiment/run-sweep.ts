import type { Progress } from '../fleet/progress.js';
import { EmbeddedTransport } from '../fleet/embedded-transport.js';
import type { Logger } from '../../common/logger.js';
import { resolveKvmHost } from '../../kernel/host/resolve-kvm-host.js';
import { kvmHostSpecOf } from '../../migration/job/kvm-host-spec-of.js';
import type { RunSummary } from '../report/run-summary.js';
import type { RegionProgress } from '../region/run-region.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import { runExperiment } from './run-experiment.js';
import type { SweepGrid, SweepPoint } from './sweep-grid.js';

/** Runs one point of a sweep and returns its summary; `close` stops what it holds (idempotent). */
export interface SweepRunner {
  run(point: SweepPoint, onProgress: (p: Progress) => void): Promise<RunSummary>;
  close(): Promise<void>;
}

/**
 * A region's progress as a run's: its fraction in thousandths of "waves", so the sweep's bar advances over the
 * region's clusters as it does over one cluster's waves.
 */
function regionAsRunProgress(p: RegionProgress): Progress {
  return { simulatedS: p.simulatedS, jobsDone: p.jobsDone, jobsSubmitted: p.jobsDone, jobsInFlight: 0, wavesDone: Math.round(p.fraction * 1000), wavesTotal: 1000 };
}

/**
 * Every run in this process, one after another (`migsim run`'s embedded mode). A point whose scenario is a region
 * runs as `migsim run` runs a region (its clusters side by side on threads), its outputs in `regionOutDir(point)`;
 * its row is the region's totals.
 */
export function embeddedSweepRunner(opts: { readonly regionOutDir: (point: SweepPoint) => string }): SweepRunner {
  return {
    async run(point, onProgress) {
      if (point.scenario.region) {
        const { runRegion } = await import('../region/run-region.js');
        const r = await runRegion({ scenario: point.scenario, outDir: opts.regionOutDir(point), runId: point.runId, ndjson: false, onProgress: (p) => onProgress(regionAsRunProgress(p)) });
        return r.totals;
      }
      const { summary } = await runExperiment({ scenario: point.scenario, transport: new EmbeddedTransport(), runId: point.runId, onProgress });
      return summary;
    },
    async close() {},
  };
}

export interface RedisSweepRunnerOptions {
  readonly redisUrl: string;
  /** Key prefix of the queues (the workers' `--prefix`). */
  readonly prefix: string;
  readonly logger: Logger;
  /**
   * Where a region point's outputs go: its clusters are coordinator jobs (`migsim run REGION --redis`), so the
   * processes serving them must see this folder at the same path.
   */
  readonly regionOutDir: (point: SweepPoint) => string;
}

/**
 * Each run coordinated through the BullMQ queues as `migsim run --redis` does it (a Coordinator per point, its
 * migrations and probes jobs for the shared `migsim worker` processes). Results stay in Redis under each point's
 * run id, so a sweep run again resumes its finished jobs. Throws RedisUnreachable when Redis cannot be reached.
 */
export function redisSweepRunner(opts: RedisSweepRunnerOptions): SweepRunner {
  let current: { close(): Promise<void> } | undefined;
  let closed = false;
  return {
    async run(point, onProgress) {
      if (closed) throw new Error('sweep runner closed');
      if (point.scenario.region) {
        const { runRegionDistributed } = await import('../region/run-region-distributed.js');
        const r = await runRegionDistributed({ scenario: point.scenario, outDir: opts.regionOutDir(point), redisUrl: opts.redisUrl, prefix: opts.prefix, runId: point.runId, onProgress: (p) => onProgress(regionAsRunProgress(p)) });
        return r.totals;
      }
      const { Coordinator } = await import('../coordinator/coordinator.js');
      const coordinator = new Coordinator({ scenario: point.scenario, redisUrl: opts.redisUrl, prefix: opts.prefix, runId: point.runId, onProgress }, opts.logger);
      current = coordinator;
      try {
        return (await coordinator.run()).summary;
      } finally {
        current = undefined;
        await coordinator.close();
      }
    },
    async close() {
      closed = true;
      await current?.close();
    },
  };
}

/** How far a sweep has come. */
export interface SweepProgress {
  readonly runsDone: number;
  readonly runsTotal: number;
  /** Migrations of the finished runs. */
  readonly migrationsDone: number;
  /** Jobs done so far in the run under way. */
  readonly jobsInRun: number;
  /** Fraction of the sweep done, 0..1 (finished runs plus the share of the current one). */
  readonly fraction: number;
  readonly elapsedS: number;
  /** Estimated seconds to the end; null until something is done. */
  readonly etaS: number | null;
}

/** One finished run of a sweep. */
export interface SweepRow {
  readonly point: SweepPoint;
  readonly summary: RunSummary;
  /** The disable strategies the scenario's host classes run (`zap-batched`, or `promote+zap` for a mixed fleet). */
  readonly strategyInEffect: string;
}

export interface SweepOptions {
  readonly grid: SweepGrid;
  readonly runner: SweepRunner;
  readonly onProgress?: (p: SweepProgress) => void;
}

/** The disable strategies of a scenario's hosts, in host-class order, without repeats, joined by `+`. */
export function strategiesInEffect(scenario: Scenario): string {
  return [...new Set(scenario.cluster.host_classes.map((h) => resolveKvmHost(kvmHostSpecOf(h.kernel)).strategy))].join('+');
}

/** Runs every point of the grid, one after another, in the grid's order. */
export async function runSweep(opts: SweepOptions): Promise<SweepRow[]> {
  const t0 = performance.now();
  const total = opts.grid.points.length;
  const rows: SweepRow[] = [];
  let migrationsDone = 0;
  const report = (runFraction: number, jobsInRun: number): void => {
    if (!opts.onProgress) return;
    const fraction = total > 0 ? Math.min(1, (rows.length + runFraction) / total) : 1;
    const elapsedS = (performance.now() - t0) / 1e3;
    opts.onProgress({ runsDone: rows.length, runsTotal: total, migrationsDone, jobsInRun, fraction, elapsedS, etaS: fraction > 0 ? (elapsedS * (1 - fraction)) / fraction : null });
  };
  for (const point of opts.grid.points) {
    report(0, 0);
    const horizon = point.scenario.horizon;
    const summary = await opts.runner.run(point, (p) => report(p.wavesTotal > 0 ? p.wavesDone / p.wavesTotal : Math.min(1, p.simulatedS / horizon), p.jobsDone));
    migrationsDone += summary.migrations.total;
    rows.push({ point, summary, strategyInEffect: strategiesInEffect(point.scenario) });
  }
  report(0, 0);
  return rows;
}
