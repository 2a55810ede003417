import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperimentScenario } from '../../../../shared/src/cluster/experiment/load-experiment-scenario.js';
import { ScenarioInvalid, ScenarioNotFound } from '../../../../shared/src/cluster/scenario/errors/index.js';
import { bundledScenarios, findScenario, SCENARIOS_DIR } from '../../../../shared/src/cluster/scenario/find-scenario.js';

describe('scenario lookup and loading (domain errors, no CLI vocabulary)', () => {
  it('finds bundled scenarios by name, with or without .yaml, and the default when none is named', () => {
    expect(bundledScenarios()).toEqual(expect.arrayContaining(['quick', 'seed-96vcpu', 'rolling-upgrade-1000', 'probe-rebalance']));
    expect(findScenario(undefined)).toBe(join(SCENARIOS_DIR, 'quick.yaml'));
    expect(findScenario('seed-96vcpu')).toBe(join(SCENARIOS_DIR, 'seed-96vcpu.yaml'));
    expect(findScenario('seed-96vcpu.yaml')).toBe(join(SCENARIOS_DIR, 'seed-96vcpu.yaml'));
  });

  it('an unknown name is a ScenarioNotFound listing the bundled ones', () => {
    let e: unknown;
    try {
      findScenario('no-such-scenario');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ScenarioNotFound);
    expect((e as Error).message).toMatch(/no-such-scenario.*quick/);
    expect((e as Error).message).not.toMatch(/--/);
  });

  it('loads with the fleet capacity check and a seed override; a fleet that does not fit is a ScenarioInvalid with its path and line', () => {
    const { scenario } = loadExperimentScenario('quick', 7);
    expect(scenario.seed).toBe(7);
    const dir = mkdtempSync(join(tmpdir(), 'migsim-scn-'));
    const file = join(dir, 'full.yaml');
    writeFileSync(
      file,
      ['name: full', 'cluster:', '  host_classes:', '    - { name: small, count: 2, cores: 4, memory: 8GiB, nic: 10Gbit/s }', 'vms:', '  per_host: 4', '  ram: 4GiB', '  vcpus: 2', '  workloads:', '    - workload: { kind: idle }', ''].join('\n'),
    );
    let e: unknown;
    try {
      loadExperimentScenario(file);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ScenarioInvalid);
    const issue = (e as ScenarioInvalid).issues[0]!;
    expect(issue.path).toBe('vms');
    expect(issue.line).toBe(6); // the first line of the vms block
    expect(issue.message).toMatch(/do not fit/);
  });
});
