import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migsim } from '../helpers/cluster.js';

const GRID = ['--set', 'policies.maintenance.max_outbound=1,2', '--set', 'policies.maintenance.wave_size=1,2'];

describe('migsim sweep (embedded)', () => {
  it('runs the grid and writes sweep.csv, sweep.html and the planner table', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-')), 'out');
    const r = migsim(['sweep', 'quick', ...GRID, '--seeds', '2', '--window', '0.5h', '--impact-budget', '17', '--out', dir]);
    expect(r.stderr).toMatch(/sweep: runs 8\/8, \d+ migrations, 100%/);
    expect(r.status, r.stderr).toBe(0);
    const csv = readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(1 + 8);
    const head = csv[0]!.split(',');
    expect(head.slice(0, 4)).toEqual(['policies.maintenance.max_outbound', 'policies.maintenance.wave_size', 'seed', 'run_id']);
    for (const c of ['makespan_s', 'migrations', 'completed', 'cancelled', 'failed', 'active', 'downtime_p50_s', 'downtime_p99_s', 'strategy_in_effect', 'promote_guest_impact_s', 'zap_host_cpu_s', 'digest']) expect(head).toContain(c);
    expect(head.some((c) => /wall/.test(c))).toBe(false);
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i]!, v])));
    expect(rows.map((x) => [x['policies.maintenance.max_outbound'], x['policies.maintenance.wave_size'], x.seed])).toEqual([
      ['1', '1', '1'], ['1', '1', '2'], ['1', '2', '1'], ['1', '2', '2'],
      ['2', '1', '1'], ['2', '1', '2'], ['2', '2', '1'], ['2', '2', '2'],
    ]);
    for (const x of rows) {
      expect(Number(x.migrations)).toBe(Number(x.completed) + Number(x.cancelled) + Number(x.failed) + Number(x.active));
      expect(x.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(x.strategy_in_effect).toBe('zap-batched');
    }
    // More concurrency per host finishes sooner.
    const makespan = (o: string, w: string) => Math.max(...rows.filter((x) => x['policies.maintenance.max_outbound'] === o && x['policies.maintenance.wave_size'] === w).map((x) => Number(x.makespan_s)));
    expect(makespan('2', '2')).toBeLessThan(makespan('1', '1'));
    // The planner table: one row per combination, the window and the budget marked per strategy.
    const table = r.stdout.split('\n');
    expect(table[0]).toContain('maintenance window 0.50 h, guest-impact budget 17 vCPU-s per migration');
    expect(table[2]).toMatch(/^max_outbound\s+wave_size\s+seeds\s+kernel strategy\s+makespan\s+window\s+in effect\s+rmap-zap\s+zap-leaf\s+zap\s+zap-batched\s+promote$/);
    const lines = table.filter((l) => /^[12]\s+[12]\s+2\s+zap-batched/.test(l));
    expect(lines.length).toBe(4);
    for (const l of lines) expect(l.match(/[✓✗]/g)!.length).toBe(7);
    // max_outbound 1, wave_size 1 takes longer than half an hour: ✗ for the window, so for every strategy.
    expect(lines[0]).toMatch(/^1\s+1\s+2\s+zap-batched\s+[\d.]+ h\s+✗/);
    expect(lines[0]!.includes('✓')).toBe(false);
    expect(r.stdout).toMatch(/wrote .*sweep\.csv, .*sweep\.html \(8 runs/);
    const html = readFileSync(join(dir, 'sweep.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Makespan against policies.maintenance.max_outbound');
    expect(html).toContain('Guest impact per migration against policies.maintenance.wave_size');
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('runs a region scenario per grid point as migsim run runs a region: a row per point from the region totals', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-region-')), 'out');
    const r = migsim(['sweep', 'scenarios/region-small.yaml', '--set', 'policies.maintenance.max_outbound=1,2', '--quiet', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    const csv = readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n');
    const head = csv[0]!.split(',');
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i]!, v])));
    expect(rows.length).toBe(2);
    for (const x of rows) {
      const region = JSON.parse(readFileSync(join(dir, 'regions', x.run_id!, 'region-summary.json'), 'utf8')) as { digest: string; clusters: unknown[]; totals: { migrations: { total: number }; makespan_s: number } };
      expect(region.clusters.length).toBe(4);
      expect(Number(x.migrations)).toBe(region.totals.migrations.total);
      expect(Number(x.makespan_s)).toBe(region.totals.makespan_s);
      expect(x.digest).toBe(region.digest);
    }
  });

  it('gives the same sweep.csv when run again', () => {
    const a = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-a-')), 'out');
    const b = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-b-')), 'out');
    expect(migsim(['sweep', 'quick', '--set', 'policies.maintenance.max_outbound=1,2', '--quiet', '--out', a]).status).toBe(0);
    expect(migsim(['sweep', 'quick', '--set', 'policies.maintenance.max_outbound=1,2', '--quiet', '--out', b]).status).toBe(0);
    expect(readFileSync(join(a, 'sweep.csv'), 'utf8')).toBe(readFileSync(join(b, 'sweep.csv'), 'utf8'));
  });

  for (const [name, args, message] of [
    ['an unknown key', ['--set', 'policies.maintenance.max_outbund=1,2'], /--set policies\.maintenance\.max_outbund=1,2: .*quick\.yaml: policies\.maintenance\.max_outbund: Unrecognized key: "max_outbund"/],
    ['a key under a value', ['--set', 'seed.x=1'], /--set seed\.x=1: the path goes through a value/],
    ['max_outbound=0', ['--set', 'policies.maintenance.max_outbound=0,1'], /--set policies\.maintenance\.max_outbound=0: .*quick\.yaml: policies\.maintenance\.max_outbound: Too small: expected number to be >0/],
    ['wave_size=abc', ['--set', 'policies.maintenance.wave_size=abc'], /--set policies\.maintenance\.wave_size=abc: .*policies\.maintenance\.wave_size: Invalid input: expected number, received string/],
    ['a bad unit', ['--set', 'migration.downtime_limit=300ms,3 furlongs'], /--set migration\.downtime_limit=3 furlongs: .*migration\.downtime_limit: /],
    ['more VMs than the hosts hold', ['--set', 'vms.per_host=60'], /--set vms\.per_host=60: .*vms: .*do not fit/],
    ['a flag without values', ['--set', 'policies.maintenance.max_outbound'], /--set policies\.maintenance\.max_outbound: expected PATH=V1,V2/],
    ['a bad window', ['--set', 'policies.maintenance.max_outbound=1', '--window', 'soon'], /--window: 'soon' is not a duration/],
    ['a bad seed count', ['--set', 'policies.maintenance.max_outbound=1', '--seeds', '0'], /--seeds: must be an integer from 1/],
  ] as const) {
    it(`rejects ${name} (exit 2, no stack trace, nothing run or written)`, () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'migsim-sweep-bad-')), 'out');
      const r = migsim(['sweep', 'quick', ...args, '--out', dir]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toMatch(/sweep: runs/);
      expect(r.stdout).toBe('');
      expect(existsSync(dir)).toBe(false);
    });
  }
});
