import { z } from 'zod';
import { jsonSizeUpTo } from '../../common/json-size.js';
import { migrationJobSchema } from '../../migration/job/migration-job.js';
import { PayloadInvalid } from './errors/payload-invalid.js';
import { PayloadTooLarge } from './errors/payload-too-large.js';
import { MAX_LISTED_PAYLOAD_ISSUES, MAX_PAYLOAD_BYTES } from './queue-defaults.js';
import { RUN_ID_PATTERN } from './queue-names.js';


/** What goes on the queue: the run, the job's deterministic id, and the job itself. */
export const jobPayloadSchema = z
  .object({
    run_id: z.string().regex(RUN_ID_PATTERN, 'run ids are letters, digits, dot, dash, underscore'),
    id: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/, 'job ids are letters, digits, dot, dash, underscore (no colon)'),
    job: migrationJobSchema,
  })
  .strict();

export type JobPayload = z.output<typeof jobPayloadSchema>;

/**
 * Validates a payload from the queue; a PayloadInvalid says what is wrong (and where). The size is checked first, in
 * constant memory (PayloadTooLarge), so an oversized payload costs nothing beyond what the queue client already
 * allocated to fetch it.
 */
export function parseJobPayload(data: unknown): JobPayload {
  const size = jsonSizeUpTo(data, MAX_PAYLOAD_BYTES);
  if (size > MAX_PAYLOAD_BYTES) throw new PayloadTooLarge(size);
  return parseJobPayloadOfKnownSize(data);
}

/**
 * `parseJobPayload` for a payload already known to be within MAX_PAYLOAD_BYTES (a batch entry whose whole batch is:
 * see `parseBatchPayload`): the same schema and messages, without measuring it again.
 */
export function parseJobPayloadOfKnownSize(data: unknown): JobPayload {
  const r = jobPayloadSchema.safeParse(data);
  if (!r.success) {
    const issues = r.error.issues;
    const listed = issues.slice(0, MAX_LISTED_PAYLOAD_ISSUES).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message.slice(0, 300)}`);
    if (issues.length > MAX_LISTED_PAYLOAD_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_PAYLOAD_ISSUES} more`);
    throw new PayloadInvalid(listed);
  }
  return r.data;
}
