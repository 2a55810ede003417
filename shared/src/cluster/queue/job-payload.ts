import { z } from 'zod';
import { jsonSizeUpTo } from '../../common/json-size.js';
import { migrationJobSchema } from '../../migration/job/migration-job.js';

/** Largest job payload a worker accepts, in bytes of JSON (UTF-8; a job is a few hundred bytes). */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

/** At most this many problems are listed in a rejection message (a rogue payload may have thousands). */
const MAX_LISTED_ISSUES = 8;

/** What goes on the queue: the run, the job's deterministic id, and the job itself. */
export const jobPayloadSchema = z
  .object({
    run_id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'run ids are letters, digits, dot, dash, underscore'),
    id: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/, 'job ids are letters, digits, dot, dash, underscore (no colon)'),
    job: migrationJobSchema,
  })
  .strict();

export type JobPayload = z.output<typeof jobPayloadSchema>;

/** A payload over MAX_PAYLOAD_BYTES: the worker rejects it before validating it (and drops its data from Redis). */
export class PayloadTooLarge extends Error {
  override readonly name = 'PayloadTooLarge';
  constructor(readonly atLeastBytes: number) {
    super(`payload of at least ${atLeastBytes} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
}

/**
 * Validates a payload from the queue; the message says what is wrong (and where). The size is checked first, in
 * constant memory (PayloadTooLarge), so an oversized payload costs nothing beyond what the queue client already
 * allocated to fetch it.
 */
export function parseJobPayload(data: unknown): JobPayload {
  const size = jsonSizeUpTo(data, MAX_PAYLOAD_BYTES);
  if (size > MAX_PAYLOAD_BYTES) throw new PayloadTooLarge(size);
  const r = jobPayloadSchema.safeParse(data);
  if (!r.success) {
    const issues = r.error.issues;
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message.slice(0, 300)}`);
    if (issues.length > MAX_LISTED_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_ISSUES} more`);
    throw new Error(`invalid job payload: ${listed.join('; ')}`);
  }
  return r.data;
}
