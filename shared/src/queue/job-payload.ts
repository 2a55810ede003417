import { z } from 'zod';
import { migrationJobSchema } from '../migration/migration-job.js';

/** Largest job payload a worker accepts, in bytes of JSON (a job is a few hundred bytes). */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

/** What goes on the queue: the run, the job's deterministic id, and the job itself. */
export const jobPayloadSchema = z
  .object({
    run_id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'run ids are letters, digits, dot, dash, underscore'),
    id: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/, 'job ids are letters, digits, dot, dash, underscore (no colon)'),
    job: migrationJobSchema,
  })
  .strict();

export type JobPayload = z.output<typeof jobPayloadSchema>;

/** Validates a payload from the queue; the message says what is wrong (and where). */
export function parseJobPayload(data: unknown): JobPayload {
  const size = JSON.stringify(data ?? null).length;
  if (size > MAX_PAYLOAD_BYTES) throw new Error(`payload of ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  const r = jobPayloadSchema.safeParse(data);
  if (!r.success) {
    throw new Error(`invalid job payload: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}
