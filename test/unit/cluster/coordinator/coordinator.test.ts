import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../shared/src/common/logger.js';
import { Coordinator } from '../../../../shared/src/cluster/coordinator/coordinator.js';
import { loadExperimentScenario } from '../../../../shared/src/cluster/experiment/load-experiment-scenario.js';
import { RedisUnreachable } from '../../../../shared/src/cluster/queue/errors/redis-unreachable.js';

const quiet = createLogger('test', 'error', () => {});

describe('Coordinator lifecycle: start() and an idempotent close()', () => {
  const { scenario } = loadExperimentScenario('quick');

  it('close() before start resolves, twice, with the same promise; start after close is refused', async () => {
    const c = new Coordinator({ scenario, redisUrl: 'redis://127.0.0.1:1' }, quiet);
    const a = c.close();
    expect(c.close()).toBe(a);
    await a;
    await expect(c.start()).rejects.toThrow(/closed/);
  });

  it('an unreachable Redis is a RedisUnreachable from start() (password redacted), and close() still ends cleanly', async () => {
    const c = new Coordinator({ scenario, redisUrl: 'redis://:secret@127.0.0.1:1', connectTimeoutMs: 500 }, quiet);
    const e = await c.run().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RedisUnreachable);
    expect((e as Error).message).toContain('redis://:***@127.0.0.1:1');
    expect((e as Error).message).not.toContain('secret');
    await c.close();
    await c.close();
  });
});
