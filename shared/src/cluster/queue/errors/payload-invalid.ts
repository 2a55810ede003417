/** A job payload the schema rejects; the message lists the first problems with their paths. */
export class PayloadInvalid extends Error {
  override readonly name = 'PayloadInvalid';

  constructor(readonly problems: readonly string[]) {
    super(`invalid job payload: ${problems.join('; ')}`);
  }
}
