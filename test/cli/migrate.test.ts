import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { migrationResultSchema } from '../../shared/src/migration/job/migration-result.js';
import { DISABLE_STRATEGIES } from '../../shared/src/kernel/mmu/disable-strategy.js';

function migsim(...args: string[]) {
  const r = spawnSync(process.execPath, ['shared/bin/migsim.mjs', 'migrate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('migsim migrate', () => {
  it('--help lists the flags', () => {
    const r = migsim('--help');
    expect(r.status).toBe(0);
    for (const flag of ['--ram', '--vcpus', '--backing', '--workload', '--dirty-rate', '--working-set', '--max-bandwidth', '--downtime-limit', '--auto-converge', '--dirty-limit', '--timeout', '--cancel-at', '--fail-at', '--strategy', '--kernel', '--cpu', '--tdp-mmu', '--nx-huge-pages', '--eager-split', '--pml', '--fast-page-fault', '--profile', '--seed', '--json', '--model', '--probe']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('--json prints a valid result record with human units accepted on input', () => {
    const r = migsim('--ram', '16GiB', '--vcpus', '8', '--workload', 'uniform', '--dirty-rate', '200MiB/s', '--working-set', '0.5', '--max-bandwidth', '10Gbit/s', '--downtime-limit', '300ms', '--json');
    expect(r.status).toBe(0);
    const rec = migrationResultSchema.parse(JSON.parse(r.stdout));
    expect(rec.status).toBe('completed');
    expect(rec.ram.total_bytes).toBe(16 * 2 ** 30);
    expect(typeof rec.total_time_s).toBe('number');
    expect(typeof rec.setup_time_s).toBe('number');
    expect(typeof rec.downtime_s).toBe('number');
    expect(rec.ram.transferred_bytes).toBeGreaterThan(16 * 2 ** 30);
    expect(rec.dirty_sync_count).toBeGreaterThanOrEqual(3);
    for (const s of DISABLE_STRATEGIES) expect(rec.mmu![s]).toBeDefined();
  });

  it('--kernel sets the strategy in effect and the MMU: a 5.10 host runs the shadow MMU; every strategy is reported from its own MMU', () => {
    const run = (...extra: string[]) => migrationResultSchema.parse(JSON.parse(migsim('--ram', '8GiB', '--vcpus', '4', '--dirty-rate', '50MiB/s', '--cancel-at', '10s', '--json', ...extra).stdout));
    expect(run('--kernel', '5.10').strategy_in_effect).toBe('rmap-zap');
    expect(run('--kernel', '5.15').strategy_in_effect).toBe('zap-leaf');
    expect(run('--kernel', '6.6').strategy_in_effect).toBe('zap');
    const r = run('--kernel', '6.18');
    expect(r.strategy_in_effect).toBe('promote');
    // The shadow MMU never splits eagerly: its guest write-faults its huge pages apart (split_on_fault), the TDP MMU's does not.
    expect(r.mmu!['rmap-zap']!.page_faults_by_kind.split_on_fault).toBeGreaterThan(0);
    expect(r.mmu!.promote!.page_faults_by_kind.split_on_fault).toBe(0);
  });

  it('kernel settings no kernel has are usage errors naming the flag', () => {
    for (const [args, flag] of [
      [['--kernel', '3.10'], '--kernel'],
      [['--tdp-mmu', 'on', '--strategy', 'rmap-zap'], '--strategy'],
      [['--kernel', '5.15', '--eager-split', 'on'], '--eager-split'],
      [['--cpu', 'm1'], '--cpu'],
    ] as const) {
      const r = migsim(...args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${flag}:`);
    }
  });

  it('the same flags give the same output, byte for byte', () => {
    const args = ['--ram', '32GiB', '--workload', 'hotcold', '--dirty-rate', '80MiB/s', '--auto-converge', '--cancel-at', '2m', '--seed', '7'];
    const a = migsim(...args);
    const b = migsim(...args);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain('status: cancelled');
  });

  for (const [args, flag] of [
    [['--ram', '7MiB'], '--ram'],
    [['--ram', 'lots'], '--ram'],
    [['--max-bandwidth', '10Gbit'], '--max-bandwidth'],
    [['--dirty-rate', '-5MiB/s'], '--dirty-rate'],
    [['--workload', 'busy'], '--workload'],
    [['--downtime-limit', 'soon'], '--downtime-limit'],
    [['--vcpus', '0'], '--vcpus'],
    [['--strategy', 'zapper'], '--strategy'],
    [['--backing', 'anonymous_hugetlb_1gb', '--ram', '2560MiB'], '--ram'],
    [['--bailout', 'gremlins=0.5'], '--bailout'],
    [['--model', 'cloudsim'], '--model'],
    [['--seed', ''], '--seed'],
    [['--horizon', '0'], '--horizon'],
    [['--workload', 'memstress', '--pass-time', '0'], '--pass-time'],
  ] as const) {
    it(`rejects ${args.join(' ')} naming ${flag}, exit 2, no stack trace`, () => {
      const r = migsim(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    });
  }

  it('--model simgrid runs SimGrid\'s model on the same inputs', () => {
    const r = migsim('--ram', '8GiB', '--workload', 'idle', '--model', 'simgrid', '--json');
    const rec = migrationResultSchema.parse(JSON.parse(r.stdout));
    expect(rec.model).toBe('simgrid');
    expect(rec.total_time_s).toBeCloseTo(64, 6);
    expect(rec.mmu).toBeNull();
  });
});
