export { JobFailed } from './job-failed.js';
export { PayloadInvalid } from './payload-invalid.js';
export { PayloadTooLarge } from './payload-too-large.js';
export { RedisUnreachable } from './redis-unreachable.js';
