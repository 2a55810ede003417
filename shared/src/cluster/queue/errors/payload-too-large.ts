import { MAX_PAYLOAD_BYTES } from '../queue-defaults.js';

/** A payload over MAX_PAYLOAD_BYTES: the worker rejects it before validating it (and drops its data from Redis). */
export class PayloadTooLarge extends Error {
  override readonly name = 'PayloadTooLarge';

  constructor(readonly atLeastBytes: number) {
    super(`payload of at least ${atLeastBytes} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
}
