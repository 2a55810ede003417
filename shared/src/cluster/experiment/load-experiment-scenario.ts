import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { capacityIssues } from '../fleet/capacity-issues.js';
import { findScenario } from '../scenario/find-scenario.js';
import { loadScenario } from '../scenario/load-scenario.js';
import type { Scenario } from '../scenario/scenario-schema.js';

export interface LoadedScenario {
  /** The file it was read from. */
  readonly file: string;
  readonly scenario: Scenario;
}

/**
 * A runnable scenario from a path or a bundled name (the default scenario when `arg` is undefined): found, parsed,
 * checked (schema, then the fleet's capacity), with `seed` replacing the scenario's own when given. Throws
 * ScenarioNotFound or ScenarioInvalid (every problem with its YAML path and line); callers name their own flag or
 * variable.
 */
export function loadExperimentScenario(arg: string | undefined, seed?: number): LoadedScenario {
  const file = findScenario(arg);
  const scenario = loadScenario(file, [capacityIssues]);
  return { file, scenario: seed === undefined ? scenario : { ...scenario, seed } };
}

/**
 * A scenario file as its YAML reads, before units and defaults: the object a sweep sets values in (`sweepGrid`).
 * Read after `loadExperimentScenario` accepted the file.
 */
export function scenarioInput(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8')) as unknown;
}
