import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SweepInvalid } from '../../../../shared/src/cluster/experiment/errors/sweep-invalid.js';
import { scenarioInput } from '../../../../shared/src/cluster/experiment/load-experiment-scenario.js';
import { parseSetFlag, setAtPath, sweepGrid } from '../../../../shared/src/cluster/experiment/sweep-grid.js';

const QUICK = scenarioInput('scenarios/quick.yaml');

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SweepInvalid);
    return (e as Error).message;
  }
  throw new Error('expected a SweepInvalid');
};

describe('parseSetFlag', () => {
  it('reads the path and the values as YAML scalars', () => {
    expect(parseSetFlag('policies.maintenance.max_outbound=1,2')).toMatchObject({ path: ['policies', 'maintenance', 'max_outbound'], name: 'policies.maintenance.max_outbound', values: [1, 2], valueTexts: ['1', '2'] });
    expect(parseSetFlag('horizon=8h, 1d').values).toEqual(['8h', '1d']);
    expect(parseSetFlag('migration.max_bandwidth=10Gbit/s').values).toEqual(['10Gbit/s']);
    expect(parseSetFlag('migration.auto_converge=true,false').values).toEqual([true, false]);
    expect(parseSetFlag('migration.timeout=null,20m').values).toEqual([null, '20m']);
    expect(parseSetFlag('vms.ram={ choices: [16GiB, 32GiB] },8GiB').values).toEqual([{ choices: ['16GiB', '32GiB'] }, '8GiB']);
  });

  it('takes list indexes as .0 or [0]', () => {
    for (const t of ['cluster.host_classes.0.count=4', 'cluster.host_classes[0].count=4']) {
      expect(parseSetFlag(t)).toMatchObject({ path: ['cluster', 'host_classes', 0, 'count'], name: 'cluster.host_classes[0].count' });
    }
  });

  it('rejects a flag without =, an empty key and an empty value', () => {
    expect(errorOf(() => parseSetFlag('policies.maintenance.max_outbound'))).toMatch(/expected PATH=V1,V2/);
    expect(errorOf(() => parseSetFlag('policies..max_outbound=1'))).toMatch(/empty key/);
    expect(errorOf(() => parseSetFlag('seed=1,,2'))).toMatch(/empty value/);
  });
});

describe('sweepGrid', () => {
  it('applies the values, validates each combination and orders the first --set slowest, seeds innermost', () => {
    const g = sweepGrid(QUICK, [parseSetFlag('policies.maintenance.max_outbound=1,2'), parseSetFlag('policies.maintenance.upgrade_time=5m,1h')], 2);
    expect(g.points.map((p) => [p.scenario.policies.maintenance!.max_outbound, p.scenario.policies.maintenance!.upgrade_time, p.seed])).toEqual([
      [1, 300, 1], [1, 300, 2], [1, 3600, 1], [1, 3600, 2],
      [2, 300, 1], [2, 300, 2], [2, 3600, 1], [2, 3600, 2],
    ]);
    expect(new Set(g.points.map((p) => p.runId)).size).toBe(8);
    expect(g.points[0]!.runId).toMatch(/^quick-sweep-[0-9a-f]{16}$/);
    // Deterministic: the same grid gives the same run ids.
    expect(sweepGrid(QUICK, [parseSetFlag('policies.maintenance.max_outbound=1,2'), parseSetFlag('policies.maintenance.upgrade_time=5m,1h')], 2).points.map((p) => p.runId)).toEqual(g.points.map((p) => p.runId));
  });

  it('rejects an unknown key and a bad value with the validator\'s path and message, naming the --set', () => {
    expect(errorOf(() => sweepGrid(QUICK, [parseSetFlag('policies.maintenance.max_outbund=1,2')]))).toBe(
      '--set policies.maintenance.max_outbund=1,2: <scenario>: policies.maintenance.max_outbund: Unrecognized key: "max_outbund"',
    );
    const m = errorOf(() => sweepGrid(QUICK, [parseSetFlag('policies.maintenance.max_outbound=0,1'), parseSetFlag('policies.maintenance.wave_size=abc')]));
    expect(m).toContain('--set policies.maintenance.max_outbound=0: <scenario>: policies.maintenance.max_outbound: Too small');
    expect(m).toContain('--set policies.maintenance.wave_size=abc: <scenario>: policies.maintenance.wave_size: Invalid input: expected number');
    expect(errorOf(() => sweepGrid(QUICK, [parseSetFlag('seed.x=1')]))).toMatch(/not a mapping/);
    expect(errorOf(() => sweepGrid(QUICK, [parseSetFlag('vms.per_host=60')]))).toMatch(/^--set vms.per_host=60: <scenario>: vms: .*do not fit/);
    expect(errorOf(() => sweepGrid(QUICK, [parseSetFlag('seed=1'), parseSetFlag('seed=2')]))).toMatch(/set twice/);
  });

  it('setAtPath makes missing mappings and leaves the base alone', () => {
    const base = { a: { b: 1 }, l: [{ x: 1 }] };
    expect(setAtPath(base, ['a', 'c', 'd'], 2, 'f')).toEqual({ a: { b: 1, c: { d: 2 } }, l: [{ x: 1 }] });
    expect(setAtPath(base, ['l', 0, 'x'], 5, 'f')).toEqual({ a: { b: 1 }, l: [{ x: 5 }] });
    expect(base).toEqual({ a: { b: 1 }, l: [{ x: 1 }] });
  });

  // Valid values for a few keys of quick.yaml, and where the validated scenario holds them.
  const MENU: Record<string, { values: readonly unknown[]; read: (s: ReturnType<typeof sweepGrid>['points'][number]['scenario']) => unknown }> = {
    'policies.maintenance.max_outbound': { values: [1, 2, 3, 4], read: (s) => s.policies.maintenance!.max_outbound },
    'policies.maintenance.max_inbound': { values: [1, 2, 3], read: (s) => s.policies.maintenance!.max_inbound },
    'policies.maintenance.wave_size': { values: [1, 2, 4], read: (s) => s.policies.maintenance!.wave_size },
    'migration.auto_converge': { values: [true, false], read: (s) => s.migration.auto_converge },
    'events.cancellation_probability': { values: [0, 0.05, 0.5], read: (s) => s.events.cancellation_probability },
  };

  it('has Π|values| × seeds points, each with its values at their paths (property)', () => {
    const arb = fc.record({
      sets: fc.uniqueArray(fc.constantFrom(...Object.keys(MENU)), { minLength: 0, maxLength: 3 }).chain((names) =>
        fc.tuple(...names.map((n) => fc.uniqueArray(fc.constantFrom(...MENU[n]!.values), { minLength: 1, maxLength: 3 }).map((vs) => ({ n, vs })))),
      ),
      seeds: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(arb, ({ sets, seeds }) => {
        const flags = sets.map(({ n, vs }) => parseSetFlag(`${n}=${vs.map(String).join(',')}`));
        const g = sweepGrid(QUICK, flags, seeds);
        expect(g.points.length).toBe(sets.reduce((a, s) => a * s.vs.length, 1) * seeds);
        for (const p of g.points) {
          sets.forEach(({ n, vs }, k) => {
            expect(MENU[n]!.read(p.scenario)).toBe(p.settings[k]!.value);
            expect(vs).toContain(p.settings[k]!.value);
          });
          expect(p.seed).toBe(1 + (p.index % seeds));
          expect(p.scenario.seed).toBe(p.seed);
        }
        // Every combination once per seed.
        expect(new Set(g.points.map((p) => JSON.stringify([p.settings.map((s) => s.value), p.seed]))).size).toBe(g.points.length);
      }),
      { numRuns: 40 },
    );
  });
});
