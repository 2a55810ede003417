import { readFileSync } from 'node:fs';
import { ScenarioInvalid } from './errors/scenario-invalid.js';
import { parseScenario } from './parse-scenario.js';
import type { ScenarioCheck } from './scenario-check.js';
import type { Scenario } from './scenario-schema.js';

/** Reads and parses a scenario file (see `parseScenario`); an unreadable file is a ScenarioInvalid too. */
export function loadScenario(file: string, checks: readonly ScenarioCheck[] = []): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioInvalid(file, [{ path: '', line: undefined, column: undefined, message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file, checks);
}
