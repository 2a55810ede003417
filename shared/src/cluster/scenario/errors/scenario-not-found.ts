/** A scenario argument that is neither a file nor the name of a bundled scenario. */
export class ScenarioNotFound extends Error {
  override readonly name = 'ScenarioNotFound';

  constructor(
    readonly arg: string,
    readonly bundledDir: string,
    readonly bundled: readonly string[],
  ) {
    super(`scenario '${arg}' not found (give a path, or one of the bundled scenarios: ${bundled.join(', ')})`);
  }
}
