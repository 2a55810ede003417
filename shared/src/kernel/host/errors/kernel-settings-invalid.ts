/** One problem with a host's kernel settings: the field (as the schema names it) and what is wrong. */
export interface KernelSettingsIssue {
  readonly field: string;
  readonly message: string;
}

/** Kernel settings that no kernel has: a release migsim does not know, or an override the release cannot take. */
export class KernelSettingsInvalid extends Error {
  override readonly name = 'KernelSettingsInvalid';

  constructor(readonly issues: readonly KernelSettingsIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}
