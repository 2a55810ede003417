import { Command } from 'commander';
import { scenarioFromArg } from './scenario-arg.js';

/** `migsim validate FILE`: every problem of a scenario with its YAML path and line (exit 2), or ok. */
export function validateCommand(out: (text: string) => void): Command {
  return new Command('validate')
    .description('Check a scenario file; every problem is reported with its YAML path and line (exit 2).')
    .helpOption('-h, --help', 'show this help')
    .argument('<file>', 'scenario file')
    .action((file: string) => {
      const { scenario: s } = scenarioFromArg(file);
      out(`${file}: ok (${s.name}, seed ${s.seed})`);
    });
}
