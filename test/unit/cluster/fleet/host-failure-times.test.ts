import { describe, expect, it } from 'vitest';
import { hostFailureTimes } from '../../../../shared/src/cluster/fleet/host-failure-times.js';
import { scenarioWith } from './fleet-fixtures.js';

describe('hostFailureTimes', () => {
  it('is empty without failures', () => {
    expect(hostFailureTimes(scenarioWith()).size).toBe(0);
  });

  it('keeps the earliest time of each host, hosts in the order first listed', () => {
    const s = scenarioWith({
      events: {
        host_failures: [
          { host: 3, at: '40m' },
          { host: 1, at: 100 },
          { host: 3, at: '10m' },
          { host: 1, at: 200 },
        ],
      },
    });
    expect([...hostFailureTimes(s)]).toEqual([
      [3, 600],
      [1, 100],
    ]);
  });
});
