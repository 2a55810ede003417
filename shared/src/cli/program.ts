import { Command } from 'commander';
import { calibrateCommand } from './calibrate-command.js';
import { compareCommand } from './compare-command.js';
import { dirtyLogPerfCommand } from './dirty-log-perf-command.js';
import { migrateCommand } from './migrate-command.js';
import { profileCommand } from './profile-command.js';
import { runCommand } from './run-command.js';
import { statusCommand } from './status-command.js';
import { sweepCommand } from './sweep-command.js';
import { validateCommand } from './validate-command.js';
import { workerCommand } from './worker-command.js';

/** The version `migsim --version` prints. */
export const MIGSIM_VERSION = '0.1.0';

/**
 * The `migsim` command and its subcommands, with commander's exits turned into exceptions (main decides the exit
 * status). `out` receives what a command prints on stdout.
 */
export function buildProgram(out: (text: string) => void): Command {
  const program = new Command('migsim')
    .description('Simulate KVM live migration at cluster scale: the cost of disabling dirty logging by zapping vs in-place promotion.')
    .version(MIGSIM_VERSION, '--version', 'show the version')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (t) => process.stderr.write(t), writeOut: (t) => process.stdout.write(t) });
  for (const cmd of [runCommand(out), sweepCommand(out), workerCommand(), statusCommand(out), validateCommand(out), compareCommand(out), migrateCommand(out), dirtyLogPerfCommand(out), profileCommand(out), calibrateCommand(out)]) {
    cmd.exitOverride().showHelpAfterError('(run with --help for usage)').configureOutput({ writeErr: (t) => process.stderr.write(t) });
    program.addCommand(cmd);
  }
  return program;
}
