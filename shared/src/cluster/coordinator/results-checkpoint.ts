import { closeSync, existsSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { migrationResultSchema, type MigrationResult } from '../../migration/job/migration-result.js';
import type { JobOutcome } from '../fleet/job-transport.js';
import { CheckpointInvalid } from './errors/checkpoint-invalid.js';

/** The file name of a run's results checkpoint in its output folder. */
export const CHECKPOINT_FILE = 'results.checkpoint.ndjson';

/** Problems of a bad line named in the error, at most. */
const LISTED_ISSUES = 3;

const lineSchema = z.object({ id: z.string().min(1), result: migrationResultSchema }).strict();

/**
 * The results a coordinator has received, one JSON line each (`{"id", "result"}`), appended as they arrive: the run's
 * durable state once they are trimmed from Redis. Read back when a coordinator restarts with the same run id and
 * output folder. A last line cut short (the process died while writing it) is dropped; any other bad line is a
 * CheckpointInvalid naming the file and line.
 */
/** Bytes read from the checkpoint at a time: a run's checkpoint may be larger than the longest string V8 holds. */
const READ_CHUNK_BYTES = 16 * 2 ** 20;

/**
 * Reads a checkpoint's whole lines back, a chunk at a time, handing each result to `take`; a last line cut short
 * (no newline after it) is cut off the file, so appended lines start on a line of their own. Returns the lines cut
 * (0 or 1). Throws CheckpointInvalid for a bad whole line.
 */
function readBack(file: string, take: (id: string, result: MigrationResult) => void): number {
  const fd = openSync(file, 'r+');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let carry: Buffer = Buffer.alloc(0);
    let offset = 0;
    let lineNo = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      if (n === 0) break;
      offset += n;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
        lineNo++;
        const [id, result] = parseLine(file, lineNo, data.toString('utf8', start, nl));
        take(id, result);
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
    if (carry.length === 0) return 0;
    ftruncateSync(fd, offset - carry.length);
    return 1;
  } finally {
    closeSync(fd);
  }
}

function parseLine(file: string, lineNo: number, line: string): [string, MigrationResult] {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    throw new CheckpointInvalid(file, lineNo, `not JSON: ${(e as Error).message}`);
  }
  const r = lineSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((x) => `${x.path.join('.') || '(top level)'}: ${x.message}`);
    const shown = issues.slice(0, LISTED_ISSUES).join('; ');
    throw new CheckpointInvalid(file, lineNo, issues.length > LISTED_ISSUES ? `${shown}; and ${issues.length - LISTED_ISSUES} more` : shown);
  }
  return [r.data.id, r.data.result];
}

export class ResultsCheckpoint {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    /** Lines dropped on reading because they were cut short (0 or 1). */
    readonly truncatedLines: number,
    /** Results read back from the file, until taken (appended ones are not kept: the file has them). */
    private readonly results: Map<string, MigrationResult>,
  ) {}

  /** Opens (reading what is there) or creates the checkpoint. Throws CheckpointInvalid. */
  static open(file: string): ResultsCheckpoint {
    const results = new Map<string, MigrationResult>();
    const truncated = existsSync(file) ? readBack(file, (id, result) => results.set(id, result)) : 0;
    const c = new ResultsCheckpoint(file, truncated, results);
    c.fd = openSync(file, 'a');
    return c;
  }

  /** Results read back and not taken yet. */
  get size(): number {
    return this.results.size;
  }

  /** A result read back from the file, once: it is let go after (the run holds it from then on). */
  take(id: string): MigrationResult | undefined {
    const r = this.results.get(id);
    if (r !== undefined) this.results.delete(id);
    return r;
  }

  /** Appends results (written to the file before this returns, so they may then be trimmed from Redis). */
  append(outcomes: readonly JobOutcome[]): void {
    if (outcomes.length === 0) return;
    if (this.fd === undefined) throw new Error(`checkpoint ${this.file} is closed`);
    let text = '';
    // The result's text as it arrived when there is one (the same JSON value: it parsed into `result`).
    for (const o of outcomes) text += `{"id":${JSON.stringify(o.id)},"result":${o.json !== undefined && !o.json.includes('\n') ? o.json : JSON.stringify(o.result)}}\n`;
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Closes and deletes the file (the run finished: its outputs hold everything). */
  remove(): void {
    this.close();
    rmSync(this.file, { force: true });
  }
}
