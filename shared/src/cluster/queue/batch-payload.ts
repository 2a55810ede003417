import { z } from 'zod';
import { jsonSizeUpTo } from '../../common/json-size.js';
import { PayloadInvalid } from './errors/payload-invalid.js';
import { PayloadTooLarge } from './errors/payload-too-large.js';
import { parseJobPayload, parseJobPayloadOfKnownSize, type JobPayload } from './job-payload.js';
import { MAX_BATCH_BYTES, MAX_BATCH_JOBS, MAX_LISTED_PAYLOAD_ISSUES, MAX_PAYLOAD_BYTES } from './queue-defaults.js';
import { RUN_ID_PATTERN } from './queue-names.js';

/**
 * A batch on the queue: one run's migration jobs, each with its deterministic id. The envelope is checked first
 * (size, run id, a list of 1 to MAX_BATCH_JOBS entries); each entry is then checked on its own, exactly as a
 * single job's payload is (`parseJobPayload`, MAX_PAYLOAD_BYTES each), so a malformed entry fails alone.
 */
export const batchEnvelopeSchema = z
  .object({
    run_id: z.string().regex(RUN_ID_PATTERN, 'run ids are letters, digits, dot, dash, underscore'),
    jobs: z.array(z.unknown()).min(1).max(MAX_BATCH_JOBS),
  })
  .strict();

export interface BatchPayload {
  readonly run_id: string;
  readonly jobs: readonly { readonly id: string; readonly job: unknown }[];
}

/** One entry of a batch after its own validation. */
export type BatchEntry =
  | { readonly index: number; readonly ok: true; readonly payload: JobPayload }
  | {
      readonly index: number;
      readonly ok: false;
      /** The entry's id when it is a usable one (its failure is stored under it), else undefined. */
      readonly id: string | undefined;
      readonly reason: string;
      readonly tooLarge: boolean;
    };

const USABLE_ID = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * Validates a batch from the queue. Throws PayloadTooLarge or PayloadInvalid when the envelope itself is wrong
 * (the whole batch fails: nothing in it can be attributed); otherwise returns every entry, valid or not.
 */
export function parseBatchPayload(data: unknown): { runId: string; entries: BatchEntry[] } {
  const size = jsonSizeUpTo(data, MAX_BATCH_BYTES);
  if (size > MAX_BATCH_BYTES) throw new PayloadTooLarge(size, MAX_BATCH_BYTES);
  const r = batchEnvelopeSchema.safeParse(data);
  if (!r.success) {
    const issues = r.error.issues;
    const listed = issues.slice(0, MAX_LISTED_PAYLOAD_ISSUES).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message.slice(0, 300)}`);
    if (issues.length > MAX_LISTED_PAYLOAD_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_PAYLOAD_ISSUES} more`);
    throw new PayloadInvalid(listed);
  }
  const runId = r.data.run_id;
  // An entry's payload ({ run_id, ...entry }) is never larger than its batch (which holds the entry and the same
  // run_id): when the whole batch is within a single job's limit, so is every entry, and none is measured again.
  const parseEntry = size <= MAX_PAYLOAD_BYTES ? parseJobPayloadOfKnownSize : parseJobPayload;
  const entries = r.data.jobs.map((raw, index): BatchEntry => {
    const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
    const rawId = isObject ? (raw as { id?: unknown }).id : undefined;
    const id = typeof rawId === 'string' && USABLE_ID.test(rawId) ? rawId : undefined;
    try {
      // The entry as a single job's payload: the same checks, the same messages.
      return { index, ok: true, payload: parseEntry(isObject ? { run_id: runId, ...(raw as object) } : raw) };
    } catch (e) {
      if (!(e instanceof PayloadInvalid || e instanceof PayloadTooLarge)) throw e;
      return { index, ok: false, id, reason: e.message, tooLarge: e instanceof PayloadTooLarge };
    }
  });
  return { runId, entries };
}
