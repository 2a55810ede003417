/** One problem in a scenario file: where (YAML path and line) and what is wrong. */
export interface ScenarioIssue {
  readonly path: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly message: string;
}

/** A scenario file that cannot be run; `issues` lists every problem found. */
export class ScenarioInvalid extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ScenarioIssue[],
  ) {
    super(issues.map((i) => `${file}${i.line !== undefined ? `:${i.line}:${i.column}` : ''}: ${i.path || '(top level)'}: ${i.message}`).join('\n'));
    this.name = 'ScenarioInvalid';
  }
}
