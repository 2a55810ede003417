/** One bad setting: the variable (or option) it came from and what is wrong with its value. */
export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

/**
 * A service configuration that cannot be used. `issues` names each bad variable, so an entry point can report it
 * under its own name for it (an environment variable, or the command-line flag that set it).
 */
export class ConfigInvalid extends Error {
  override readonly name = 'ConfigInvalid';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map((i) => `${i.key}: ${i.message}`).join('\n'));
  }
}
