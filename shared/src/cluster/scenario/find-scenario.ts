import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenarioNotFound } from './errors/scenario-not-found.js';

/** The bundled scenarios folder (`scenarios/` at the package root). */
export const SCENARIOS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../scenarios');

/** The scenario run when none is named. */
export const DEFAULT_SCENARIO = 'quick';

/** Names of the bundled scenarios (file names without `.yaml`), sorted. */
export function bundledScenarios(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * The file of a scenario argument: an existing path, or the name of a bundled scenario (`quick`, `seed-96vcpu`, …,
 * with or without `.yaml`); the default scenario when none is given. Throws ScenarioNotFound otherwise.
 */
export function findScenario(arg: string | undefined): string {
  if (arg === undefined) return join(SCENARIOS_DIR, `${DEFAULT_SCENARIO}.yaml`);
  if (existsSync(arg)) return arg;
  const bundled = join(SCENARIOS_DIR, arg.endsWith('.yaml') ? arg : `${arg}.yaml`);
  if (existsSync(bundled)) return bundled;
  throw new ScenarioNotFound(arg, SCENARIOS_DIR, bundledScenarios());
}
