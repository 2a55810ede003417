/**
 * A RUN file (a user's `dirty_log_perf_test` output with its host header and command line) that does not read as the
 * selftest prints: `line` is 1-based, `message` says what was expected there and what was found.
 */
export class SelftestOutputInvalid extends Error {
  override readonly name = 'SelftestOutputInvalid';

  constructor(
    readonly source: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${source}:${line}: ${detail}`);
  }
}
