/** A usage error: the message names the flag and what it accepts; the command exits with status 2. */
export class CliError extends Error {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
