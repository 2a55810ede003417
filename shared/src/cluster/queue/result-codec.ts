import { deflateSync, inflateSync } from 'node:zlib';

/**
 * How a job's result is stored in the run's results hash: its JSON text in a zlib stream. Results are the run's
 * durable state (a coordinator resumes from them), so they stay in Redis for the whole run; compressed, a
 * migration result takes about a quarter of its JSON size.
 */
export function encodeResult(json: string): Buffer {
  return deflateSync(json);
}

/** The JSON text of a stored result; plain JSON (as stored before results were compressed) is read as it is. */
export function decodeResult(stored: Buffer): string {
  // A zlib stream starts with CMF, whose low four bits are 8 (deflate); a JSON object starts with '{' (0x7b).
  return stored[0] === 0x7b ? stored.toString('utf8') : inflateSync(stored).toString('utf8');
}
