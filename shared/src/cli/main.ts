import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { dirtyLogPerfCommand } from './dirty-log-perf-command.js';
import { compareCommand } from './compare-command.js';
import { migrateCommand } from './migrate-command.js';
import { runCommand } from './run-command.js';
import { validateCommand } from './validate-command.js';
import { statusCommand } from './status-command.js';
import { workerCommand } from './worker-command.js';
import { profileCommand } from './profile-command.js';

/**
 * The `migsim` command. Returns the exit status: 0 on success, 2 on a usage error (the message names the flag and
 * what it accepts), 1 on an internal error (no stack trace unless MIGSIM_DEBUG is set).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const out = (text: string): void => {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const program = new Command('migsim')
    .description('Simulate KVM live migration at cluster scale: the cost of disabling dirty logging by zapping vs in-place promotion.')
    .version('0.1.0', '--version', 'show the version')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (t) => process.stderr.write(t), writeOut: (t) => process.stdout.write(t) });
  for (const cmd of [runCommand(out), workerCommand(), statusCommand(out), validateCommand(out), compareCommand(out), migrateCommand(out), dirtyLogPerfCommand(out), profileCommand(out)]) {
    cmd.exitOverride().showHelpAfterError('(run with --help for usage)').configureOutput({ writeErr: (t) => process.stderr.write(t) });
    program.addCommand(cmd);
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its message (or the help / version).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliError) {
      process.stderr.write(`migsim: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`migsim: internal error: ${(e as Error).message}\n`);
    if (process.env.MIGSIM_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
