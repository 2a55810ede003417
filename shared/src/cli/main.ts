import { CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { buildProgram } from './program.js';

/**
 * The `migsim` command. Returns the exit status: 0 on success, 2 on a usage error (the message names the flag and
 * what it accepts), 1 on an internal error (no stack trace unless MIGSIM_DEBUG is set).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const out = (text: string): void => {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  try {
    await buildProgram(out).parseAsync([...argv], { from: 'user' });
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
