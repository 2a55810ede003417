import type { z } from 'zod';
import { CliError } from './cli-error.js';

/** Turns zod issues into one CliError naming each field (by its flag name) and what is wrong. */
export function cliErrorFromZod(error: z.ZodError, flagOf: (path: readonly PropertyKey[]) => string): CliError {
  const lines = error.issues.map((issue) => `${flagOf(issue.path)}: ${issue.message}`);
  return new CliError(lines.join('\n'));
}
