import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { migrationResultSchema } from '../../shared/src/migration/job/migration-result.js';
import { DISABLE_STRATEGIES } from '../../shared/src/kernel/mmu/disable-strategy.js';
import { QEMU_DEFAULTS, STREAM, SWITCHOVER } from '../../shared/src/migration/precopy/qemu-defaults.js';

function migsim(...args: string[]) {
  const r = spawnSync(process.execPath, ['shared/bin/migsim.mjs', 'migrate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('migsim migrate', () => {
  it('--help lists the flags', () => {
    const r = migsim('--help');
    expect(r.status).toBe(0);
    for (const flag of [
      '--ram',
      '--vcpus',
      '--backing',
      '--workload',
      '--dirty-rate',
      '--working-set',
      '--utilisation',
      '--touched-fraction',
      '--access',
      '--dirty-ring-size',
      '--max-bandwidth',
      '--link-bandwidth',
      '--multifd',
      '--multifd-channels',
      '--downtime-limit',
      '--auto-converge',
      '--dirty-limit',
      '--postcopy-after',
      '--timeout',
      '--timeout-action',
      '--cancel-at',
      '--fail-at',
      '--strategy',
      '--kernel',
      '--cpu',
      '--tdp-mmu',
      '--nx-huge-pages',
      '--eager-split',
      '--pml',
      '--fast-page-fault',
      '--profile',
      '--seed',
      '--json',
      '--model',
      '--probe',
      '--probe-mode',
    ]) {
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

  it('--cancel-at --json: total_time_s includes the disable of the strategy in effect (migration_cleanup under the BQL), so zap-leaf and promote differ for the same VM', () => {
    const vm = ['--ram', '32GiB', '--vcpus', '32', '--backing', 'anonymous_hugetlb_2mb', '--workload', 'memstress', '--pass-time', '2s', '--cancel-at', '100s', '--json'];
    const [leaf, promote] = (['zap-leaf', 'promote'] as const).map((strategy) => {
      const r = migsim(...vm, '--strategy', strategy);
      expect(r.status).toBe(0);
      return migrationResultSchema.parse(JSON.parse(r.stdout));
    });
    for (const r of [leaf!, promote!]) {
      expect(r.status).toBe('cancelled');
      expect(r.dirty_log_stopped_at_s).toBe(100);
      expect(r.total_time_s).toBeCloseTo(100 + r.mmu![r.strategy_in_effect]!.disable_s, 9);
    }
    // The same VM and the same pre-disable state: only the disable in effect differs.
    expect(leaf!.mmu).toEqual(promote!.mmu);
    expect(leaf!.total_time_s - promote!.total_time_s).toBeCloseTo(leaf!.mmu!['zap-leaf']!.disable_s - leaf!.mmu!.promote!.disable_s, 9);
    expect(leaf!.total_time_s).toBeGreaterThan(promote!.total_time_s + 10);
    // The whole cost, by component: as the host ran it at the top; in each strategy's block its MMU's and the disable's.
    expect(Object.keys(leaf!.host_cpu!).sort()).toEqual(['dirty_tracking_s', 'enable_split_s', 'migration_thread_s', 'total_s']);
    expect(Object.keys(leaf!.guest_impact!).sort()).toEqual(['bql_stall_s', 'dirty_tracking_s', 'downtime_s', 'ept_4k_s', 'flush_stalls_s', 'postcopy_faults_s', 'throttling_s', 'total_s']);
    for (const s of DISABLE_STRATEGIES) {
      expect(Object.keys(leaf!.mmu![s]!.host_cpu).sort()).toEqual(['dirty_tracking_s', 'disable_s', 'enable_split_s', 'total_s']);
      expect(Object.keys(leaf!.mmu![s]!.guest_impact).sort()).toEqual(['bql_stall_s', 'dirty_tracking_s', 'flush_stalls_s', 'logging_flush_stalls_s', 'refaults_s', 'total_s']);
    }
    expect(leaf!.mmu!['zap-leaf']!.guest_impact.bql_stall_s).toBeGreaterThan(leaf!.mmu!.promote!.guest_impact.bql_stall_s);
  });

  it('downtime reflects the lifted rate limit: the rest goes at the link, not at max-bandwidth (QEMU 128 MiB/s default on the assumed 10 GbE)', () => {
    const r = migsim('--ram', '16GiB', '--vcpus', '8', '--workload', 'hotcold', '--dirty-rate', '40MiB/s', '--json');
    const rec = migrationResultSchema.parse(JSON.parse(r.stdout));
    expect(rec.status).toBe('completed');
    // QEMU's expected downtime prices the rest at the precopy bandwidth (128 MiB/s); stop-and-copy sends it at the
    // link, about 9x faster, after the switchover's fixed costs.
    const restS = rec.expected_downtime_s;
    const fixedS = SWITCHOVER.vmStopS + SWITCHOVER.deviceStateS + SWITCHOVER.returnPathCloseS + 8 * (SWITCHOVER.vmStopPerVcpuS + SWITCHOVER.deviceStatePerVcpuS);
    const sendS = rec.downtime_s! - fixedS;
    const atLinkS = ((restS * QEMU_DEFAULTS.maxBandwidthBytesPerS) / STREAM.assumedLinkBytesPerS) * (4104 / 4096);
    expect(sendS).toBeGreaterThan(atLinkS);
    expect(sendS).toBeLessThan(atLinkS + 0.001);
    expect(rec.downtime_s!).toBeLessThan(restS);
  });

  it('the text output has the whole cost table with the disable\'s share', () => {
    const r = migsim('--ram', '8GiB', '--workload', 'uniform', '--dirty-rate', '50MiB/s', '--cancel-at', '20s');
    expect(r.status).toBe(0);
    for (const text of ['Whole cost per disable strategy', 'host CPU migration_thread', 'host CPU disable *', 'guest ept_4k', 'guest disable_bql_stall *', 'disable share of host CPU']) {
      expect(r.stdout).toContain(text);
    }
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
    [['--utilisation', '2'], '--utilisation'],
    [['--touched-fraction', '-1'], '--touched-fraction'],
    [['--access', 'zigzag'], '--access'],
    [['--dirty-ring-size', '1000'], '--dirty-ring-size'],
    [['--dirty-limit', '1MB/s'], '--dirty-limit'],
    [['--dirty-limit', '1MB/s', '--dirty-ring-size', '4096', '--auto-converge'], '--dirty-limit'],
    [['--multifd-channels', '0'], '--multifd-channels'],
    [['--postcopy-after', '0'], '--postcopy-after'],
    [['--timeout-action', 'panic'], '--timeout-action'],
    [['--probe', '--probe-mode', 'dirty-ring'], '--probe-mode'],
    [['--probe', '--probe-mode', 'sampling'], '--probe-mode'],
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
