import { MAX_PAYLOAD_BYTES } from '../queue-defaults.js';

/**
 * A payload over its limit (MAX_PAYLOAD_BYTES for a job, MAX_BATCH_BYTES for a batch's envelope): the worker rejects
 * it before validating it (and drops its data from Redis).
 */
export class PayloadTooLarge extends Error {
  override readonly name = 'PayloadTooLarge';

  constructor(
    readonly atLeastBytes: number,
    readonly limitBytes: number = MAX_PAYLOAD_BYTES,
  ) {
    super(`payload of at least ${atLeastBytes} bytes exceeds the ${limitBytes}-byte limit`);
  }
}
