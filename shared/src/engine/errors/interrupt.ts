/**
 * Thrown into a process's generator by {@link Process.interrupt}. The process may catch it and carry on; if it does
 * not, the process fails with it. `cause` is whatever the interrupter passed (a reason, a message, any value).
 */
export class Interrupt extends Error {
  /** The value given to {@link Process.interrupt}. */
  override readonly cause: unknown;

  constructor(cause?: unknown) {
    super(cause === undefined ? 'process interrupted' : `process interrupted: ${String(cause)}`);
    this.name = 'Interrupt';
    this.cause = cause;
  }
}
