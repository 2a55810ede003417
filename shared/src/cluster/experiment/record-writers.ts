import { closeSync, openSync, writeSync } from 'node:fs';
import type { JobRecord } from '../fleet/fleet-run-result.js';
import { JOBS_CSV_HEADER, jobCsvRow } from '../report/run-summary.js';

/** Bytes gathered before a write to the file. */
const FLUSH_BYTES = 1 << 20;

/** Lines appended to a file as they come, in chunks of about a megabyte (synchronous writes: no backlog to bound). */
export class LineFile {
  private fd: number;
  private buf: string[] = [];
  private size = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  line(text: string): void {
    this.buf.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * `jobs.csv` streamed: the header once, then a row per record as it arrives (the run's completion order; the
 * columns are those of `jobsCsv`).
 */
export class JobsCsvWriter {
  private readonly file: LineFile;

  constructor(path: string) {
    this.file = new LineFile(path);
    this.file.line(JOBS_CSV_HEADER);
  }

  add(j: JobRecord): void {
    this.file.line(jobCsvRow(j));
  }

  close(): void {
    this.file.close();
  }
}

/** `jobs.ndjson`: each record as one line of JSON (the `JobRecord` as the run has it, result included). */
export class JobsNdjsonWriter {
  private readonly file: LineFile;

  constructor(path: string) {
    this.file = new LineFile(path);
  }

  add(j: JobRecord): void {
    this.file.line(JSON.stringify(j));
  }

  close(): void {
    this.file.close();
  }
}
