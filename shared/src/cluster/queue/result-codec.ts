import { deflateSync, inflateSync } from 'node:zlib';

/**
 * How a job's result is stored in the run's results hash: its JSON text, plain (the default) or in a zlib stream
 * (a worker with `compressResults`). Results are the run's durable state (a coordinator resumes from them), so they
 * stay in Redis for the whole run; compressed, a migration result takes about a fifth of its JSON size, for ~30 µs
 * of CPU to deflate and ~10 µs to inflate (see WORKER_DEFAULTS.compressResults).
 */
export function encodeResult(json: string, compress: true): Buffer;
export function encodeResult(json: string, compress: false): string;
export function encodeResult(json: string, compress: boolean): Buffer | string;
export function encodeResult(json: string, compress: boolean): Buffer | string {
  return compress ? deflateSync(json) : json;
}

/** The JSON text of a stored result, plain or compressed (whichever the worker that stored it chose). */
export function decodeResult(stored: Buffer): string {
  // A zlib stream starts with CMF, whose low four bits are 8 (deflate); a JSON object starts with '{' (0x7b).
  return stored[0] === 0x7b ? stored.toString('utf8') : inflateSync(stored).toString('utf8');
}
