/** A sweep that cannot run: a `--set` that is malformed, or that makes a scenario the validator rejects (one line per problem). */
export class SweepInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepInvalid';
  }
}
