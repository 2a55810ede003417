/** Redis did not answer within the connect timeout (wrong address or password, server down); the URL is redacted. */
export class RedisUnreachable extends Error {
  override readonly name = 'RedisUnreachable';

  constructor(
    /** The URL with its password replaced. */
    readonly redactedUrl: string,
    readonly reason: string,
  ) {
    super(`cannot reach Redis at ${redactedUrl}: ${reason}`);
  }
}
