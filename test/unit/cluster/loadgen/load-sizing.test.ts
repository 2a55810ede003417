import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSchedule } from '../../../../shared/src/cluster/loadgen/load-generator.js';
import { parseLoadgenConfig } from '../../../../shared/src/cluster/loadgen/loadgen-env.js';
import { buildFleet } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { sizeScenario } from '../../../../shared/src/cluster/loadgen/size-scenario.js';
import { loadScenario } from '../../../../shared/src/cluster/scenario/load-scenario.js';
import { interpolate, parseEnvFile } from '../../../load/compose-env.js';

const template = loadScenario('scenarios/rolling-upgrade-1000.yaml');
const quick = loadScenario('scenarios/quick.yaml');

describe('load sizing', () => {
  it('resizes a fleet to at least the VMs asked for, within one host of them, keeping the wave share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 0, max: 1000 }), (vms, seed) => {
        const s = sizeScenario(template, vms, seed);
        const hosts = s.cluster.host_classes.reduce((n, c) => n + c.count, 0);
        const perHost = s.vms.per_host!;
        expect(hosts * perHost).toBeGreaterThanOrEqual(vms);
        expect(hosts * perHost - vms).toBeLessThan(Math.max(perHost, 2 * perHost));
        expect(s.seed).toBe(seed);
        const wave = s.policies.maintenance!.wave_size;
        expect(wave).toBeGreaterThanOrEqual(1);
        expect(Math.abs(wave - hosts / 10)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('builds the fleet it describes', () => {
    const s = sizeScenario(quick, 100, 7);
    const fleet = buildFleet(s);
    expect(fleet.vms.length).toBeGreaterThanOrEqual(100);
    expect(fleet.hosts.length).toBe(s.cluster.host_classes.reduce((n, c) => n + c.count, 0));
  });

  it('schedules runs by count or by duration', () => {
    expect(runSchedule({ LOAD_RUNS: 3, LOAD_INTERVAL_S: 2, LOAD_DURATION_S: undefined })).toEqual([0, 2, 4]);
    expect(runSchedule({ LOAD_RUNS: 3, LOAD_INTERVAL_S: 4, LOAD_DURATION_S: 10 })).toEqual([0, 4, 8]);
  });

  it('validates the load generator\u2019s environment with named errors', () => {
    expect(parseLoadgenConfig({ REDIS_URL: 'redis://h:6379' }).LOAD_MIGRATIONS).toBe(2000);
    expect(() => parseLoadgenConfig({ REDIS_URL: 'redis://h:6379', LOAD_DURATION_S: '60' })).toThrow(/LOAD_INTERVAL_S/);
    expect(() => parseLoadgenConfig({ REDIS_URL: 'redis://h:6379', LOAD_MIGRATIONS: 'lots' })).toThrow(/LOAD_MIGRATIONS/);
    expect(() => parseLoadgenConfig({ REDIS_URL: 'http://h' })).toThrow(/REDIS_URL/);
  });

  it('interpolates compose variables the way compose does', () => {
    const vars = { A: 'x', EMPTY: '' };
    expect(interpolate('${A}-${B:-d}-${EMPTY:-e}-${EMPTY-f}-$$A', vars)).toBe('x-d-e--$A');
    expect(() => interpolate('${B:?set B}', vars)).toThrow(/set B/);
    expect(parseEnvFile('# c\nA=1\nB="two words"\n\nC=\n')).toEqual({ A: '1', B: 'two words', C: '' });
  });
});
