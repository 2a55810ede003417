/** A cost profile that cannot be used: an unknown name, an unreadable file, or keys or values the schema rejects. */
export class ProfileInvalid extends Error {
  override readonly name = 'ProfileInvalid';

  constructor(
    /** The profile as it was named (a built-in name, a file, or `(inline)`). */
    readonly spec: string,
    /** What is wrong, one line per problem. */
    readonly problems: readonly string[],
  ) {
    super(`${spec}: ${problems.join('; ')}`);
  }
}
