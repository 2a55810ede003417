import type { Environment } from './environment.js';
import { SimEvent } from './event.js';
import { NORMAL } from './priority.js';

/**
 * An event that succeeds by itself with `value` after `delaySeconds` of simulated time. It is triggered as soon as
 * it is created (its outcome is known) and is processed at `env.now + delaySeconds`.
 */
export class Timeout<V = undefined> extends SimEvent<V> {
  /** The delay (seconds) from creation to processing. */
  readonly delaySeconds: number;

  /**
   * @throws RangeError if `delaySeconds` is negative, NaN or infinite.
   */
  constructor(env: Environment, delaySeconds: number, value: V) {
    if (!(delaySeconds >= 0 && delaySeconds < Infinity)) {
      throw new RangeError(`timeout delay must be finite and >= 0, got ${delaySeconds}`);
    }
    super(env);
    this.delaySeconds = delaySeconds;
    this._resolve(true, value);
    env.schedule(this, delaySeconds, NORMAL);
  }
}
