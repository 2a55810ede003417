import { hash32 } from '../../engine/rng.js';
import { DISABLE_STRATEGIES, type DisableStrategy } from '../../kernel/mmu/disable-strategy.js';
import type { JobRecord } from '../fleet/fleet-run-result.js';

/** Points kept per cumulative line: past twice this, every other point is dropped (the line is monotone). */
export const MAX_LINE_POINTS = 1000;
/** Values kept per strategy for the disable-time histogram (a uniform sample of the jobs whose disable ran). */
export const MAX_HISTOGRAM_SAMPLE = 4000;
/** Bins of the huge-page coverage series: they double in width as the run goes on, never more than this many. */
export const MAX_COVERAGE_BINS = 512;

/** A wave's migrations off one rack: the first start and the last end. */
export interface RackSpan {
  start: number;
  end: number;
}

/**
 * What report.html draws from the jobs, in bounded memory (see {@link ReportAccumulator}): cumulative vCPU stall
 * per strategy (at most 2 × {@link MAX_LINE_POINTS} points), a sample of disable times per strategy (at most
 * {@link MAX_HISTOGRAM_SAMPLE}), the huge-page coverage's changes in at most {@link MAX_COVERAGE_BINS} time bins,
 * and per wave and rack the span of its migrations and the racks of the hosts seen.
 */
export interface ReportData {
  readonly stall: Record<DisableStrategy, readonly (readonly [number, number])[]>;
  readonly disableSample: Record<DisableStrategy, readonly number[]>;
  /** Width of the coverage bins, s, and each bin's change of the bytes mapped small under each strategy. */
  readonly coverageBinS: number;
  readonly coverageLost: Record<DisableStrategy, readonly number[]>;
  readonly rackOf: ReadonlyMap<number, number>;
  /** Key `${wave}/${rack}`. */
  readonly waveRackSpans: ReadonlyMap<string, RackSpan>;
}

function perStrategy<T>(f: (s: DisableStrategy) => T): Record<DisableStrategy, T> {
  return Object.fromEntries(DISABLE_STRATEGIES.map((s) => [s, f(s)])) as Record<DisableStrategy, T>;
}

interface Loss {
  readonly at: number;
  readonly until: number;
  readonly bytes: number;
}

/** A cumulative line in bounded points: keeps every point until 2n, then every other one (and the last). */
class DecimatedLine {
  readonly points: [number, number][] = [[0, 0]];
  private stride = 1;
  private seen = 0;
  /** The latest point when it was not kept, so the line ends where the data does. */
  private last: [number, number] | null = null;

  push(x: number, y: number): void {
    this.seen++;
    if (this.seen % this.stride !== 0) {
      this.last = [x, y];
      return;
    }
    this.last = null;
    this.points.push([x, y]);
    if (this.points.length > 2 * MAX_LINE_POINTS) {
      const kept = this.points.filter((_, i) => i % 2 === 0);
      this.points.splice(0, this.points.length, ...kept);
      this.stride *= 2;
    }
  }

  finish(): [number, number][] {
    return this.last ? [...this.points, this.last] : this.points;
  }
}

/** Changes over time in bins that double in width (merging pairs) when a change falls past the last bin. */
class GrowingBins {
  binS = 1;
  readonly bins = new Float64Array(MAX_COVERAGE_BINS);

  add(t: number, v: number): void {
    while (t >= this.binS * MAX_COVERAGE_BINS) {
      for (let i = 0; i < MAX_COVERAGE_BINS / 2; i++) this.bins[i] = this.bins[2 * i]! + this.bins[2 * i + 1]!;
      this.bins.fill(0, MAX_COVERAGE_BINS / 2);
      this.binS *= 2;
    }
    this.bins[Math.max(0, Math.floor(t / this.binS))]! += v;
  }
}

/**
 * Builds {@link ReportData} as records arrive (in completion order, as a run's sink gives them). Memory is bounded
 * by the constants above, plus one entry per VM that lost huge pages (its latest loss) and per host seen (its rack).
 */
export class ReportAccumulator {
  private readonly stall = perStrategy(() => ({ total: 0, line: new DecimatedLine() }));
  private readonly sample = perStrategy(() => ({ n: 0, values: [] as number[] }));
  private readonly lastLoss = perStrategy(() => new Map<number, Loss>());
  private readonly lost = perStrategy(() => new GrowingBins());
  private readonly rackOf = new Map<number, number>();
  private readonly spans = new Map<string, RackSpan>();

  add(j: JobRecord): void {
    const r = j.result;
    for (const s of DISABLE_STRATEGIES) {
      const b = r.mmu?.[s];
      if (!b) continue;
      const st = this.stall[s];
      st.total += b.vcpu_stall_s;
      st.line.push(j.endS, st.total);
      if (b.disable_ran) {
        // Algorithm R with a hash for the draw: the same records in the same order keep the same sample.
        const sm = this.sample[s];
        if (sm.values.length < MAX_HISTOGRAM_SAMPLE) sm.values.push(b.disable_s);
        else {
          const k = hash32(sm.n, 0x5a3c) % (sm.n + 1);
          if (k < MAX_HISTOGRAM_SAMPLE) sm.values[k] = b.disable_s;
        }
        sm.n++;
      }
      if (!b.disable_ran || r.dirty_log_stopped_at_s === null) continue;
      const zapped = b.sptes_zapped;
      const share = zapped + b.huge_pages_promoted > 0 ? zapped / (zapped + b.huge_pages_promoted) : 0;
      if (share <= 0) continue;
      const at = j.startS + r.dirty_log_stopped_at_s;
      const until = b.huge_coverage_restored_s === null ? Infinity : at + b.huge_coverage_restored_s;
      const prev = this.lastLoss[s].get(j.vm);
      if (prev) this.close(s, prev, at);
      this.lastLoss[s].set(j.vm, { at, until, bytes: share * r.ram.total_bytes });
    }
    this.rackOf.set(j.src, j.srcRack);
    if (j.dst !== null && j.dstRack !== null) this.rackOf.set(j.dst, j.dstRack);
    if (j.wave !== null && j.purpose === 'maintenance') {
      const key = `${j.wave}/${j.srcRack}`;
      const sp = this.spans.get(key);
      if (sp) {
        sp.start = Math.min(sp.start, j.startS);
        sp.end = Math.max(sp.end, j.endS);
      } else this.spans.set(key, { start: j.startS, end: j.endS });
    }
  }

  /** A VM's loss of huge pages lasts until it is restored or the VM's next disable replaces it. */
  private close(s: DisableStrategy, x: Loss, nextAt: number): void {
    const end = Math.min(x.until, nextAt);
    if (end <= x.at) return;
    this.lost[s].add(x.at, x.bytes);
    if (end !== Infinity) this.lost[s].add(end, -x.bytes);
  }

  finish(): ReportData {
    for (const s of DISABLE_STRATEGIES) {
      for (const x of this.lastLoss[s].values()) this.close(s, x, Infinity);
      this.lastLoss[s].clear();
    }
    // One bin width for all strategies: widen the narrower ones.
    const binS = Math.max(...DISABLE_STRATEGIES.map((s) => this.lost[s].binS));
    for (const s of DISABLE_STRATEGIES) while (this.lost[s].binS < binS) this.lost[s].add(binS * MAX_COVERAGE_BINS - 1, 0);
    return {
      stall: perStrategy((s) => this.stall[s].line.finish()),
      disableSample: perStrategy((s) => this.sample[s].values),
      coverageBinS: binS,
      coverageLost: perStrategy((s) => Array.from(this.lost[s].bins)),
      rackOf: this.rackOf,
      waveRackSpans: this.spans,
    };
  }
}

/** The report's data from a list of records (completion order: by end, then serial). */
export function reportDataOf(jobs: readonly JobRecord[]): ReportData {
  const acc = new ReportAccumulator();
  for (const j of [...jobs].sort((a, b) => a.endS - b.endS || a.serial - b.serial)) acc.add(j);
  return acc.finish();
}
