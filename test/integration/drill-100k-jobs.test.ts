import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS_MAX_LEN } from '../../shared/src/cluster/queue/queue-defaults.js';
import type { LoadtestReport } from '../load/loadtest-report.js';

/**
 * 100,000 jobs through the queues, with `npm run loadtest` (its own Redis with the compose arguments, two workers,
 * the load generator and Prometheus): ten runs of ~8,500 VMs, two at a time. Redis memory must not grow with the
 * number of jobs: finished jobs are removed, the events stream is capped, and each run's results are deleted when
 * it ends.
 */
describe('drill: 100,000 jobs through the queues', () => {
  it('keeps Redis memory bounded and Prometheus in step with the runs', () => {
    const out = mkdtempSync(join(tmpdir(), 'migsim-100k-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/load/loadtest.ts', '--workers', '2', '--migrations', '8500', '--runs', '10', '--max-active', '2', '--out', out], {
      encoding: 'utf8',
      timeout: 540_000,
      maxBuffer: 1 << 26,
    });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    // The JSON report is the last line on stdout, and the same as loadtest.json.
    const last = r.stdout.trim().split('\n').at(-1)!;
    const report = JSON.parse(last) as LoadtestReport;
    expect(report).toEqual(JSON.parse(readFileSync(join(out, 'loadtest.json'), 'utf8')));
    expect(readFileSync(join(out, 'loadtest.md'), 'utf8')).toContain('| jobs per second |');

    expect(report.failed_runs).toBe(0);
    expect(report.jobs).toBeGreaterThanOrEqual(100_000);
    expect(report.prometheus.totals_match, JSON.stringify(report.prometheus.checks.filter((c) => !c.match))).toBe(true);
    // Nothing of the finished jobs is left in Redis but BullMQ's few fixed keys and a capped events stream.
    expect(report.redis.job_hashes_left).toBe(0);
    expect(report.redis.events_stream_len).toBeLessThanOrEqual(EVENTS_MAX_LEN + 100);
    expect(report.redis.queue_keys).toBeLessThan(10);
    // Bounded: the second half of the load (50,000 more jobs done) peaks no higher than the first, and the whole
    // peak is two runs' results (~10,000 jobs each, ~1 KiB a compressed result) and queue state, not 100,000 jobs'.
    expect(report.redis.peak_second_half_bytes).toBeLessThanOrEqual(report.redis.peak_first_half_bytes * 1.25);
    expect(report.redis.peak_memory_bytes).toBeLessThan(128 * 2 ** 20);
    expect(report.redis.memory_at_end_bytes).toBeLessThan(8 * 2 ** 20);
    process.stdout.write(
      `100k drill: ${report.jobs} jobs in ${report.wall_s.toFixed(1)} s (${report.jobs_per_s.toFixed(0)} jobs/s), Redis peak ${(report.redis.peak_memory_bytes / 2 ** 20).toFixed(1)} MiB\n`,
    );
  }, 600_000);
});
