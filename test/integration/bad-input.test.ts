import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, testPrefix, waitExit } from '../helpers/cluster.js';

/**
 * Bad configuration of the services (environment) and bad `npm run loadtest` flags: each is one line naming what is
 * wrong, exit code 2, no stack trace, and nothing started (none of these cases reaches Redis).
 */
interface Case {
  readonly label: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly stderr: RegExp;
}

const bin = (service: string) => [`services/${service}/bin/${service}.mjs`];
const LOADTEST = ['--import', 'tsx', 'test/load/loadtest.ts'];

function run(c: Case): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A clean environment: nothing of the caller's REDIS_URL, METRICS_PORT, ... leaks in.
  const p = spawn(process.execPath, c.args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...c.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return waitExit(p, 60_000);
}

describe('bad input to the services and the load test', () => {
  let taken: Server;
  let takenPort = 0;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const a = taken.address();
    takenPort = typeof a === 'object' && a ? a.port : 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  });

  it('is one line naming the variable or flag, exit code 2, no stack trace', async () => {
    const prefix = testPrefix();
    const ok = { REDIS_URL, QUEUE_PREFIX: prefix };
    // An output folder whose results checkpoint has a bad line (it cannot be resumed from).
    const badCheckpoint = mkdtempSync(join(tmpdir(), 'migsim-bad-ckpt-'));
    writeFileSync(join(badCheckpoint, 'results.checkpoint.ndjson'), '{"id":"x","result":{}}\n');
    const cases: Case[] = [
      { label: 'coordinator, a bad results checkpoint in OUT_DIR', args: bin('coordinator'), env: { ...ok, SCENARIO: 'quick', OUT_DIR: badCheckpoint }, stderr: /^migsim coordinator: [^\n]*results\.checkpoint\.ndjson:1: result\.job: [^\n]*and \d+ more \(delete the file to run again from the start\)\n$/ },
      { label: 'worker, REDIS_URL not a URL', args: bin('worker'), env: { REDIS_URL: 'x' }, stderr: /^migsim worker: REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL\n$/ },
      { label: 'worker, REDIS_URL bad port', args: bin('worker'), env: { REDIS_URL: 'redis://127.0.0.1:99999' }, stderr: /^migsim worker: REDIS_URL: bad host:port '127\.0\.0\.1:99999'\n$/ },
      { label: 'worker, WORKER_CONCURRENCY', args: bin('worker'), env: { ...ok, WORKER_CONCURRENCY: 'abc' }, stderr: /^migsim worker: WORKER_CONCURRENCY: [^\n]+\n$/ },
      { label: 'worker, METRICS_PORT in use', args: bin('worker'), env: { ...ok, METRICS_PORT: String(takenPort) }, stderr: new RegExp(`^migsim worker: cannot serve metrics on 127\\.0\\.0\\.1:${takenPort}: [^\\n]*EADDRINUSE[^\\n]*\\n$`) },
      { label: 'coordinator, no REDIS_URL', args: bin('coordinator'), stderr: /^migsim coordinator: REDIS_URL: [^\n]+\n$/ },
      { label: 'coordinator, RUN_ID', args: bin('coordinator'), env: { ...ok, RUN_ID: 'a:b' }, stderr: /^migsim coordinator: RUN_ID: [^\n]+\n$/ },
      { label: 'coordinator, SCENARIO', args: bin('coordinator'), env: { ...ok, SCENARIO: 'nope' }, stderr: /^migsim coordinator: scenario 'nope' not found[^\n]*\n$/ },
      { label: 'coordinator, SCENARIO a region', args: bin('coordinator'), env: { ...ok, SCENARIO: 'scenarios/region-small.yaml' }, stderr: /^migsim coordinator: SCENARIO: scenarios\/region-small\.yaml is a region; this service coordinates one cluster\. Run the region with `migsim run scenarios\/region-small\.yaml --redis URL`[^\n]*\n$/ },
      { label: 'coordinator, METRICS_HOST unknown', args: bin('coordinator'), env: { ...ok, METRICS_PORT: '0', METRICS_HOST: 'no-such-host.invalid' }, stderr: /^migsim coordinator: cannot serve metrics on no-such-host\.invalid:0: [^\n]+\n$/ },
      { label: 'loadgen, LOAD_MIGRATIONS', args: bin('loadgen'), env: { ...ok, LOAD_MIGRATIONS: '-1' }, stderr: /^migsim loadgen: LOAD_MIGRATIONS: [^\n]+\n$/ },
      { label: 'loadgen, LOAD_DURATION_S without interval', args: bin('loadgen'), env: { ...ok, LOAD_DURATION_S: '60' }, stderr: /^migsim loadgen: LOAD_INTERVAL_S: [^\n]+\n$/ },
      { label: 'loadgen, REDIS_URL cluster seed', args: bin('loadgen'), env: { REDIS_URL: 'redis://a:7000,b:x' }, stderr: /^migsim loadgen: REDIS_URL: bad host:port 'b:x'\n$/ },
      { label: 'loadgen, OUT_DIR', args: bin('loadgen'), env: { ...ok, OUT_DIR: '/dev/null/x' }, stderr: /^migsim loadgen: OUT_DIR: cannot create \/dev\/null\/x: [^\n]*ENOTDIR[^\n]*\n$/ },
      { label: 'loadtest --workers', args: [...LOADTEST, '--workers', 'nope'], stderr: /^loadtest: --workers: [^\n]+\n$/ },
      { label: 'loadtest --max-active', args: [...LOADTEST, '--max-active', '-1'], stderr: /^loadtest: --max-active: [^\n]+\n$/ },
      { label: 'loadtest --bogus', args: [...LOADTEST, '--bogus'], stderr: /^error: unknown option '--bogus'\n$/ },
      { label: 'loadtest --scenario', args: [...LOADTEST, '--scenario', 'nope'], stderr: /^loadtest: scenario 'nope' not found[^\n]*\n$/ },
      { label: 'loadtest --out', args: [...LOADTEST, '--out', '/dev/null/x'], stderr: /^loadtest: --out: cannot create \/dev\/null\/x: [^\n]*ENOTDIR[^\n]*\n$/ },
    ];
    const results = await Promise.all(cases.map(run));
    cases.forEach((c, i) => {
      const r = results[i]!;
      const what = `${c.label}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      expect(r.stderr, what).toMatch(c.stderr);
      expect(r.stderr, what).not.toMatch(/\n\s+at /);
      expect(r.code, what).toBe(2);
      expect(r.stdout, what).toBe('');
    });
  }, 120_000);
});
