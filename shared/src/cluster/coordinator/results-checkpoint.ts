import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
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
export class ResultsCheckpoint {
  /** Results read back from the file, until taken (appended ones are not kept: the file has them). */
  private readonly results = new Map<string, MigrationResult>();
  private fd: number | undefined;
  /** Lines dropped on reading because they were cut short (0 or 1). */
  readonly truncatedLines: number;

  private constructor(
    readonly file: string,
    truncated: number,
  ) {
    this.truncatedLines = truncated;
  }

  /** Opens (reading what is there) or creates the checkpoint. Throws CheckpointInvalid. */
  static open(file: string): ResultsCheckpoint {
    let truncated = 0;
    const entries: [string, MigrationResult][] = [];
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      // A complete file ends with a newline; what follows the last one is a line cut short.
      const last = lines.pop() ?? '';
      if (last.length > 0) truncated = 1;
      lines.forEach((line, i) => {
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch (e) {
          throw new CheckpointInvalid(file, i + 1, `not JSON: ${(e as Error).message}`);
        }
        const r = lineSchema.safeParse(json);
        if (!r.success) {
          const issues = r.error.issues.map((x) => `${x.path.join('.') || '(top level)'}: ${x.message}`);
          const shown = issues.slice(0, LISTED_ISSUES).join('; ');
          throw new CheckpointInvalid(file, i + 1, issues.length > LISTED_ISSUES ? `${shown}; and ${issues.length - LISTED_ISSUES} more` : shown);
        }
        entries.push([r.data.id, r.data.result]);
      });
      if (truncated > 0) {
        // Drop the cut line from the file, so appended lines start on a line of their own.
        const fd = openSync(file, 'r+');
        try {
          ftruncateSync(fd, Buffer.byteLength(text) - Buffer.byteLength(last));
        } finally {
          closeSync(fd);
        }
      }
    }
    const c = new ResultsCheckpoint(file, truncated);
    for (const [id, result] of entries) c.results.set(id, result);
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
