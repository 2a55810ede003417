/** Small, dependency-free SVG charts for self-contained reports. */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  /** Drawn dashed (e.g. a maximum beside its mean). */
  readonly dashed?: boolean;
}

const W = 640;
const H = 300;
const M = { top: 20, right: 150, bottom: 44, left: 70 };

/** Text made safe for HTML and SVG, in element content and in attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A short label for a number (k, M, G suffixes; up to 3 significant digits). */
export function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${Number((v / 1e9).toPrecision(3))}G`;
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a === 0) return '0';
  return `${Number(v.toPrecision(3))}`;
}

function ticks(min: number, max: number, n: number = 5): number[] {
  if (!(max > min)) return [min];
  const step0 = (max - min) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function frame(title: string, xLabel: string, yLabel: string, body: string, legend: readonly { name: string; color: string }[]): string {
  const leg = legend
    .map((l, i) => `<g transform="translate(${W - M.right + 16},${M.top + 8 + i * 18})"><rect width="12" height="12" fill="${l.color}"/><text x="18" y="10" font-size="12">${escapeHtml(l.name)}</text></g>`)
    .join('');
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">
<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>${body}
<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">${escapeHtml(xLabel)}</text>
<text transform="translate(14,${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(yLabel)}</text>${leg}</svg></figure>`;
}

function axes(x0: number, x1: number, y0: number, y1: number, xFmt: (v: number) => string = fmt): { sx: (v: number) => number; sy: (v: number) => number; svg: string } {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v: number) => M.left + (x1 > x0 ? ((v - x0) / (x1 - x0)) * pw : 0);
  const sy = (v: number) => M.top + ph - (y1 > y0 ? ((v - y0) / (y1 - y0)) * ph : 0);
  let svg = `<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="#333"/><line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="#333"/>`;
  for (const t of ticks(y0, y1)) svg += `<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`;
  for (const t of ticks(x0, x1)) svg += `<text x="${sx(t)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${xFmt(t)}</text>`;
  return { sx, sy, svg };
}

/** The smallest of `xs` and `floor`, without spreading them into arguments (a long run has too many for the stack). */
function minOf(xs: readonly number[], floor: number): number {
  let m = floor;
  for (const x of xs) if (x < m) m = x;
  return m;
}

/** The largest of `xs` and `floor` (see {@link minOf}). */
function maxOf(xs: readonly number[], floor: number): number {
  let m = floor;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/** Lines (step or straight) over a shared x axis. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], step: boolean = true): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x0 = minOf(xs, 0);
  const x1 = maxOf(xs, 1e-9);
  const y0 = minOf(ys, 0);
  const y1 = maxOf(ys, 1e-9) * 1.05;
  const a = axes(x0, x1, y0, y1);
  let body = a.svg;
  for (const s of series) {
    if (s.points.length === 0) continue;
    let d = `M${a.sx(s.points[0]![0])},${a.sy(s.points[0]![1])}`;
    for (let i = 1; i < s.points.length; i++) {
      const [x, y] = s.points[i]!;
      d += step ? `H${a.sx(x)}V${a.sy(y)}` : `L${a.sx(x)},${a.sy(y)}`;
    }
    body += `<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`;
  }
  return frame(title, xLabel, yLabel, body, series);
}

/** Groups of bars: one group per category, one bar per series. */
export function groupedBarChart(title: string, yLabel: string, categories: readonly string[], series: readonly { name: string; color: string; values: readonly number[] }[]): string {
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values)) * 1.1;
  const a = axes(0, 1, 0, max, () => '');
  const pw = W - M.left - M.right;
  const gw = pw / categories.length;
  const bw = (gw * 0.8) / series.length;
  let body = a.svg;
  categories.forEach((c, i) => {
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const x = M.left + i * gw + gw * 0.1 + k * bw;
      body += `<rect class="bar" x="${x}" y="${a.sy(v)}" width="${Math.max(1, bw - 2)}" height="${Math.max(0, a.sy(0) - a.sy(v))}" fill="${s.color}"><title>${escapeHtml(`${s.name}, ${c}: ${fmt(v)}`)}</title></rect>`;
    });
    body += `<text x="${M.left + i * gw + gw / 2}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${escapeHtml(c)}</text>`;
  });
  return frame(title, '', yLabel, body, series);
}

/** Histograms of several series on logarithmic bins. */
export function logHistogram(title: string, xLabel: string, series: readonly { name: string; color: string; values: readonly number[] }[], bins: number = 24): string {
  const all = series.flatMap((s) => s.values).filter((v) => v > 0);
  if (all.length === 0) return frame(title, xLabel, 'jobs', '<text x="320" y="150" text-anchor="middle">no data</text>', series);
  const lo = Math.log10(minOf(all, Infinity));
  const hi = Math.log10(maxOf(all, -Infinity)) + 1e-9;
  const width = (hi - lo) / bins || 1;
  const counts = series.map((s) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of s.values) if (v > 0) c[Math.min(bins - 1, Math.floor((Math.log10(v) - lo) / width))]!++;
    return c;
  });
  const max = Math.max(1, ...counts.flat());
  const a = axes(lo, lo + bins * width, 0, max * 1.05, (v) => fmt(10 ** v));
  let body = a.svg;
  series.forEach((s, k) => {
    counts[k]!.forEach((n, b) => {
      if (n === 0) return;
      const x0 = a.sx(lo + b * width);
      const x1 = a.sx(lo + (b + 1) * width);
      const w = (x1 - x0) / series.length;
      body += `<rect class="bar" x="${x0 + k * w}" y="${a.sy(n)}" width="${Math.max(1, w - 1)}" height="${a.sy(0) - a.sy(n)}" fill="${s.color}" opacity="0.85"/>`;
    });
  });
  return frame(title, xLabel, 'jobs', body, series);
}

/** Horizontal bars on a time axis (one row per item; `title`, when given, is the bar's tooltip instead of its label). */
export function gantt(title: string, xLabel: string, rows: readonly { label: string; start: number; end: number; color: string; title?: string }[]): string {
  const x1 = Math.max(1e-9, ...rows.map((r) => r.end));
  const ph = H - M.top - M.bottom;
  const a = axes(0, x1, 0, 1, fmt);
  const rh = ph / Math.max(1, rows.length);
  let body = a.svg.replace(/<text x="[^"]*" y="[^"]*" text-anchor="end"[^<]*<\/text>/g, '');
  rows.forEach((r, i) => {
    const y = M.top + i * rh;
    body += `<rect class="bar" x="${a.sx(r.start)}" y="${y + rh * 0.15}" width="${Math.max(1, a.sx(r.end) - a.sx(r.start))}" height="${Math.max(1, rh * 0.7)}" fill="${r.color}"><title>${escapeHtml(`${r.title ?? r.label}: ${fmt(r.start)}–${fmt(r.end)} s`)}</title></rect>`;
    if (rows.length <= 24) body += `<text x="${M.left - 6}" y="${y + rh / 2 + 4}" text-anchor="end" font-size="10">${escapeHtml(r.label)}</text>`;
  });
  return frame(title, xLabel, '', body, []);
}

/**
 * Stacked bars: one bar per category, one segment per series (bottom up, in order); `notes` are printed above the
 * bars (one per category).
 */
export function stackedBarChart(
  title: string,
  yLabel: string,
  categories: readonly string[],
  series: readonly { name: string; color: string; values: readonly number[] }[],
  notes: readonly string[] = [],
): string {
  const totals = categories.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = Math.max(1e-9, ...totals) * 1.15;
  const a = axes(0, 1, 0, max, () => '');
  const pw = W - M.left - M.right;
  const gw = pw / Math.max(1, categories.length);
  const bw = gw * 0.6;
  let body = a.svg;
  categories.forEach((c, i) => {
    const x = M.left + i * gw + (gw - bw) / 2;
    let base = 0;
    for (const s of series) {
      const v = s.values[i] ?? 0;
      if (v > 0) {
        body += `<rect class="bar" x="${x}" y="${a.sy(base + v)}" width="${bw}" height="${Math.max(0, a.sy(base) - a.sy(base + v))}" fill="${s.color}"><title>${escapeHtml(`${c}, ${s.name}: ${fmt(v)}`)}</title></rect>`;
      }
      base += v;
    }
    const note = notes[i];
    if (note) body += `<text x="${x + bw / 2}" y="${a.sy(totals[i]!) - 4}" text-anchor="middle" font-size="11">${escapeHtml(note)}</text>`;
    body += `<text x="${M.left + i * gw + gw / 2}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${escapeHtml(c)}</text>`;
  });
  return frame(title, '', yLabel, body, series);
}
