import { MAX_PAYLOAD_BYTES } from '../../../../shared/src/cluster/queue/queue-defaults.js';
import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redactRedisUrl } from '../../../../shared/src/cluster/queue/redis-connection.js';
import { parseJobPayload } from '../../../../shared/src/cluster/queue/job-payload.js';
import { ConfigInvalid } from '../../../../shared/src/cluster/config/errors/config-invalid.js';
import { workerOptionsFromEnv } from '../../../../shared/src/cluster/worker/worker-env.js';
import { coordinatorConfigFromEnv } from '../../../../shared/src/cluster/coordinator/coordinator-env.js';
import { parseLoadgenConfig } from '../../../../shared/src/cluster/loadgen/loadgen-env.js';

describe('Redis URLs', () => {
  it('parses single servers, TLS, credentials, databases and cluster seed lists', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ tls: false, nodes: [{ host: '127.0.0.1', port: 6379 }], db: 0 });
    expect(parseRedisUrl('rediss://user:p%40ss@redis.example:6380/2')).toMatchObject({ tls: true, username: 'user', password: 'p@ss', nodes: [{ host: 'redis.example', port: 6380 }], db: 2 });
    expect(parseRedisUrl('redis://:pw@a:7000,b:7001,c:7002').nodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
      { host: 'c', port: 7002 },
    ]);
    expect(parseRedisUrl('redis://localhost').nodes).toEqual([{ host: 'localhost', port: 6379 }]);
    expect(() => parseRedisUrl('http://x')).toThrow();
    expect(() => parseRedisUrl('redis://host:99999')).toThrow(/bad host:port/);
  });

  it('never shows a password', () => {
    expect(redactRedisUrl('redis://:s3cret@h:1')).toBe('redis://:***@h:1');
    expect(redactRedisUrl('rediss://me:s3cret@h:1,i:2/3')).toBe('rediss://me:***@h:1,i:2/3');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('configuration and payloads', () => {
  it('validates the worker configuration once, with defaults and named errors', () => {
    const c = workerOptionsFromEnv({ REDIS_URL: 'redis://h:1' });
    expect(c.concurrency).toBe(2);
    expect(c.maxStalledCount).toBe(2);
    expect(c.prefix).toBe('{migsim}');
    expect(() => workerOptionsFromEnv({ REDIS_URL: 'http://h' })).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => workerOptionsFromEnv({ REDIS_URL: 'redis://h', WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => coordinatorConfigFromEnv({})).toThrow(/REDIS_URL/);
    // The error is typed and names each variable, so an entry point can name its own flag for it.
    let e: unknown;
    try {
      coordinatorConfigFromEnv({ REDIS_URL: 'redis://h', SEED: '-1', RUN_ID: 'a:b' });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ConfigInvalid);
    expect((e as ConfigInvalid).issues.map((i) => i.key).sort()).toEqual(['RUN_ID', 'SEED']);
  });

  it('rejects a Redis URL that cannot be connected to, naming REDIS_URL, in every service', () => {
    for (const parse of [workerOptionsFromEnv, coordinatorConfigFromEnv, parseLoadgenConfig]) {
      expect(() => parse({ REDIS_URL: 'redis://h:99999' })).toThrow(/^REDIS_URL: bad host:port 'h:99999'$/);
      expect(() => parse({ REDIS_URL: 'redis://:pw@a:7000,b:x' })).toThrow(/^REDIS_URL: bad host:port 'b:x'$/);
      expect(() => parse({ REDIS_URL: 'redis://h:1/x/y' })).toThrow(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/);
      const parsed = parse({ REDIS_URL: 'rediss://u:p%40ss@a:7000,b:7001/0' });
      expect('redisUrl' in parsed ? parsed.redisUrl : parsed.REDIS_URL).toBe('rediss://u:p%40ss@a:7000,b:7001/0');
    }
  });

  it('rejects malformed, oversized and colon-bearing payloads with the reason', () => {
    expect(() => parseJobPayload({ run_id: 'r', id: 'a:b', job: {} })).toThrow(/no colon/);
    expect(() => parseJobPayload({ run_id: 'r', id: 'a', job: { vm: { ram_bytes: 3 } } })).toThrow(/job\.vm/);
    expect(() => parseJobPayload({ x: 'y'.repeat(MAX_PAYLOAD_BYTES + 4096) })).toThrow(`exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
    const ok = parseJobPayload({ run_id: 'r', id: 'a', job: { vm: { ram_bytes: 2 ** 30, vcpus: 1, workload: { kind: 'idle' } } } });
    expect(ok.job.migration.max_bandwidth_bytes_per_s).toBe(128 * 2 ** 20);
  });
});
