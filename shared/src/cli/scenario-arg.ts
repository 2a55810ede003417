import { loadExperimentScenario, type LoadedScenario } from '../cluster/experiment/load-experiment-scenario.js';
import { ScenarioInvalid } from '../cluster/scenario/errors/scenario-invalid.js';
import { ScenarioNotFound } from '../cluster/scenario/errors/scenario-not-found.js';
import { CliError } from './cli-error.js';
import { numberFlag } from './flag-values.js';

/**
 * A scenario argument (a path or a bundled name; the default scenario when undefined) and `--seed`, loaded and
 * checked; problems are usage errors (every problem of the file with its YAML path and line).
 */
export function scenarioFromArg(arg: string | undefined, seedText?: string): LoadedScenario {
  const seed = numberFlag('--seed', seedText, 0, 2 ** 31 - 1, true);
  try {
    return loadExperimentScenario(arg, seed);
  } catch (e) {
    if (e instanceof ScenarioNotFound || e instanceof ScenarioInvalid) throw new CliError(e.message);
    throw e;
  }
}
