import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioInvalid } from '../../../../shared/src/cluster/scenario/errors/scenario-invalid.js';
import { loadScenario } from '../../../../shared/src/cluster/scenario/load-scenario.js';
import { resolveProfile } from '../../../../shared/src/kernel/mmu/resolve-profile.js';

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/scenarios/medium.yaml');
const dir = mkdtempSync(join(tmpdir(), 'migsim-scenario-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** medium.yaml with its host class's kernel set to `kernel`, written to dir/sub/NAME. */
function scenario(name: string, kernel: string): string {
  const file = join(dir, 'sub', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, readFileSync(FIXTURE, 'utf8').replace('kernel: { strategy: zap }', `kernel: ${kernel}`));
  return file;
}

describe('a host class names a profile file', () => {
  it('is read relative to the scenario and carried inline', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'host.json'), JSON.stringify({ name: 'my-hosts', costs: { fault_fast_ns: 900 } }));
    const s = loadScenario(scenario('ok.yaml', '{ release: "6.12", profile: host.json }'));
    const spec = s.cluster.host_classes[0]!.kernel.profile;
    expect(typeof spec).toBe('object');
    expect(resolveProfile(spec).costs.fault_fast_ns).toBe(900);
    expect(resolveProfile(spec).name).toBe('my-hosts');
  });

  it('a missing file or an unknown name: ScenarioInvalid at the key, with its line', () => {
    const missing = scenario('missing.yaml', '{ profile: nosuch.json }');
    expect(() => loadScenario(missing)).toThrow(ScenarioInvalid);
    expect(() => loadScenario(missing)).toThrow(/:12:\d+: cluster\.host_classes\[0\]\.kernel\.profile: cannot read it as JSON/);
    expect(() => loadScenario(scenario('unknown.yaml', '{ profile: fast }'))).toThrow(/kernel\.profile: unknown profile 'fast'/);
  });
});
