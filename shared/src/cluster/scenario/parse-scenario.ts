import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { BUILTIN_PROFILES } from '../../kernel/mmu/builtin-profiles.js';
import { ProfileInvalid } from '../../kernel/mmu/errors/profile-invalid.js';
import { readProfileFile } from '../../kernel/mmu/read-profile-file.js';
import { ScenarioInvalid, type ScenarioIssue } from './errors/scenario-invalid.js';
import { resolveRegionOverrides } from './region-overrides.js';
import type { ScenarioCheck } from './scenario-check.js';
import { scenarioSchema, type Scenario } from './scenario-schema.js';

/** A path as the messages write it: `cluster.host_classes[0].nic`. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/**
 * Parses and validates a scenario (YAML or JSON text). Every problem is reported with its YAML path and, where the
 * node exists, its line and column: unknown keys, wrong types, bad units and negative sizes, then whatever the
 * `checks` find in a scenario the schema accepted (the fleet's capacity, see `cluster/fleet/capacity-issues.ts`).
 */
export function parseScenario(text: string, file: string = '<scenario>', checks: readonly ScenarioCheck[] = []): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioInvalid(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '', line: pos?.line, column: pos?.col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const locate: ScenarioLocator = (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: undefined, column: undefined };
  };
  return validateScenario(doc.toJS(), file, checks, locate);
}

/** Where a path is in the scenario's text, when there is a text. */
export type ScenarioLocator = (path: readonly PropertyKey[]) => { line: number | undefined; column: number | undefined };

const nowhere: ScenarioLocator = () => ({ line: undefined, column: undefined });

/**
 * Validates a scenario given as a plain object (what the YAML parses to, before units): the schema, then `checks`.
 * Throws ScenarioInvalid with every problem at its dotted path (and its line, when `locate` knows it).
 */
export function validateScenario(input: unknown, file: string = '<scenario>', checks: readonly ScenarioCheck[] = [], locate: ScenarioLocator = nowhere): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) {
    const issues: ScenarioIssue[] = parsed.error.issues.map((i) => {
      // Unknown keys: point at the key itself.
      const keys = (i as { keys?: string[] }).keys;
      const path = keys && keys.length > 0 ? [...i.path, keys[0]!] : i.path;
      return { path: pathText(path), ...locate(path), message: i.message };
    });
    throw new ScenarioInvalid(file, issues);
  }
  const profileIssues = inlineProfileFiles(parsed.data, file);
  if (profileIssues.length > 0) {
    throw new ScenarioInvalid(
      file,
      profileIssues.map((i) => ({ path: pathText(i.path), ...locate(i.path), message: i.message })),
    );
  }
  const found = checks.flatMap((check) => check(parsed.data));
  if (found.length > 0) {
    throw new ScenarioInvalid(
      file,
      found.map((c) => ({ path: c.path, ...locate(c.path.split('.')), message: c.message })),
    );
  }
  if (parsed.data.region) {
    // Each listed cluster's `set`, applied to this scenario and validated as it was.
    const regionIssues = resolveRegionOverrides(input, parsed.data.region, (clusterInput) => {
      try {
        return { scenario: validateScenario(clusterInput, file, checks) };
      } catch (e) {
        if (!(e instanceof ScenarioInvalid)) throw e;
        return { issues: e.issues };
      }
    });
    if (regionIssues.length > 0) throw new ScenarioInvalid(file, regionIssues.map((i) => ({ path: pathText(i.path), ...locate(i.path), message: i.message })));
  }
  return parsed.data;
}

/**
 * A host class's `kernel.profile` naming a `.json` file (a `migsim calibrate --out` profile, or any file of
 * overrides) is read now, relative to the scenario file (to the working directory for a scenario given as text), and
 * carried inline from here on: jobs and workers never read files. Any other name must be a built-in profile.
 */
function inlineProfileFiles(scenario: Scenario, file: string): { path: PropertyKey[]; message: string }[] {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  const dir = file === '<scenario>' ? process.cwd() : dirname(resolve(file));
  scenario.cluster.host_classes.forEach((hc, i) => {
    const spec = hc.kernel.profile;
    if (typeof spec !== 'string' || BUILTIN_PROFILES[spec]) return;
    const path = ['cluster', 'host_classes', i, 'kernel', 'profile'];
    if (!spec.endsWith('.json')) {
      issues.push({ path, message: `unknown profile '${spec}'; use one of ${Object.keys(BUILTIN_PROFILES).join(', ')} or a path to a .json file (relative to the scenario)` });
      return;
    }
    try {
      const overrides = readProfileFile(resolve(dir, spec));
      (hc.kernel as { profile: typeof overrides | string }).profile = { ...overrides, name: overrides.name === resolve(dir, spec) ? spec : overrides.name };
    } catch (e) {
      if (!(e instanceof ProfileInvalid)) throw e;
      issues.push({ path, message: e.problems.join('; ') + ` (${resolve(dir, spec)})` });
    }
  });
  return issues;
}
