import { describe, expect, it } from 'vitest';
import { migsim, REDIS_URL } from '../helpers/cluster.js';
import { distributedSuite } from './distributed-suite.js';

distributedSuite('single Redis', () => REDIS_URL);

describe('an unreachable Redis', () => {
  it('gets a clear error within seconds, with the password redacted and no stack trace', () => {
    const t0 = Date.now();
    const r = migsim(['run', 'quick', '--quiet', '--redis', 'redis://:s3cret@127.0.0.1:1'], {}, 30_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const w = migsim(['worker', '--redis', 'redis://127.0.0.1:1'], {}, 30_000);
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/cannot reach Redis/);
  });
});
