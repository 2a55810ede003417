import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STRATEGY_COLORS } from '../../shared/src/cluster/report/report-html.js';
import { migsim } from '../helpers/cluster.js';
import { decodePng } from '../helpers/png.js';

const CHROMIUM = process.env.MIGSIM_CHROMIUM ?? '/usr/bin/chromium';

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

describe('report.html in headless Chromium', () => {
  it('renders offline with every chart drawn', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} (Debian package chromium; .ci/run installs it)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'migsim-report-'));
    const run = migsim(['run', 'quick', '--quiet', '--out', dir]);
    expect(run.status).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    // Self-contained: no external scripts, styles or images.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src="http/);
    // Every chart is a figure holding one drawing: the migrations, the disable per strategy and the whole cost.
    const figures = (html.match(/<figure class="chart">/g) ?? []).length;
    expect(figures).toBeGreaterThanOrEqual(7);
    expect((html.match(/<svg /g) ?? []).length).toBe(figures);
    const png = join(dir, 'shot.png');
    const r = spawnSync(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--hide-scrollbars', '--window-size=1400,2200', `--screenshot=${png}`, `file://${resolve(dir, 'report.html')}`],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(existsSync(png), r.stderr).toBe(true);
    const img = decodePng(readFileSync(png));
    expect(img.width).toBe(1400);
    // Every strategy's colour is on screen in quantity: bars, lines and legends were drawn.
    for (const [strategy, color] of Object.entries(STRATEGY_COLORS)) {
      const [cr, cg, cb] = hex(color);
      let n = 0;
      for (let i = 0; i < img.rgba.length; i += 4) {
        if (Math.abs(img.rgba[i]! - cr) < 8 && Math.abs(img.rgba[i + 1]! - cg) < 8 && Math.abs(img.rgba[i + 2]! - cb) < 8) n++;
      }
      expect(n, `${strategy} pixels`).toBeGreaterThan(300);
    }
  });
});
