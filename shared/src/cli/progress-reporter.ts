import type { Progress } from '../cluster/fleet/progress.js';
import type { SweepProgress } from '../cluster/experiment/run-sweep.js';
import type { RegionProgress } from '../cluster/region/run-region.js';

/** What a long command reports progress to. */
export interface ProgressReporter {
  readonly update: (p: Progress) => void;
  readonly done: () => void;
}

/** A progress line: a bar on a terminal, a plain line per 10 % otherwise. */
export function progressReporter(horizonS: number, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = stream.isTTY === true;
  let lastPct = -1;
  let lastDraw = 0;
  return {
    update(p) {
      const frac = p.wavesTotal > 0 ? p.wavesDone / p.wavesTotal : Math.min(1, p.simulatedS / horizonS);
      const pct = Math.floor(frac * 100);
      const text = `${p.wavesTotal > 0 ? `waves ${p.wavesDone}/${p.wavesTotal}` : `${pct}%`}, ${p.jobsDone}/${p.jobsSubmitted} jobs, simulated ${(p.simulatedS / 3600).toFixed(2)} h`;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && pct === lastPct) return;
        lastDraw = now;
        const width = 30;
        const fill = Math.round(frac * width);
        stream.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}   `);
      } else if (pct >= lastPct + 10 || (lastPct < 0 && pct >= 0)) {
        stream.write(`progress: ${text}\n`);
      }
      lastPct = pct;
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

/** A sweep's progress: runs done, migrations, ETA; a bar on a terminal, a line per run otherwise. */
export function sweepProgressReporter(stream: NodeJS.WriteStream = process.stderr): { readonly update: (p: SweepProgress) => void; readonly done: () => void } {
  const tty = stream.isTTY === true;
  let lastRuns = -1;
  let lastDraw = 0;
  const eta = (s: number | null): string => (s === null ? '?' : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
  return {
    update(p) {
      const text = `runs ${p.runsDone}/${p.runsTotal}, ${p.migrationsDone} migrations${p.jobsInRun > 0 ? ` (+${p.jobsInRun} jobs in this run)` : ''}, ${(p.fraction * 100).toFixed(0)}%, ETA ${eta(p.etaS)}`;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && p.runsDone === lastRuns) return;
        lastDraw = now;
        const width = 30;
        const fill = Math.round(p.fraction * width);
        stream.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}   `);
      } else if (p.runsDone !== lastRuns) {
        stream.write(`sweep: ${text}\n`);
      }
      lastRuns = p.runsDone;
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

/** A region's progress: clusters done, jobs, simulated time, ETA; a bar on a terminal, a line per cluster otherwise. */
export function regionProgressReporter(stream: NodeJS.WriteStream = process.stderr): { readonly update: (p: RegionProgress) => void; readonly done: () => void } {
  const tty = stream.isTTY === true;
  let lastDone = -1;
  let lastDraw = 0;
  const eta = (s: number | null): string => (s === null ? '?' : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
  return {
    update(p) {
      const text = `clusters ${p.clustersDone}/${p.clustersTotal}, ${p.jobsDone} jobs (${p.migrationsDone} migrations in finished clusters), simulated ${(p.simulatedS / 3600).toFixed(1)} cluster-h, ${(p.fraction * 100).toFixed(0)}%, ETA ${eta(p.etaS)}`;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && p.clustersDone === lastDone) return;
        lastDraw = now;
        const width = 30;
        const fill = Math.round(p.fraction * width);
        stream.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}   `);
      } else if (p.clustersDone !== lastDone) {
        stream.write(`region: ${text}\n`);
      }
      lastDone = p.clustersDone;
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}
