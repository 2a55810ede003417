/** A results checkpoint that cannot be read back: which file, which line and why. The run is not resumed from it. */
export class CheckpointInvalid extends Error {
  override readonly name = 'CheckpointInvalid';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason} (delete the file to run again from the start)`);
  }
}
