import type { Scenario } from '../scenario/scenario-schema.js';

/**
 * When each host of the scenario's `host_failures` fails: its earliest listed time (a host fails once). Hosts come
 * in the order of their first listing, which is the order their failures are scheduled in.
 */
export function hostFailureTimes(scenario: Scenario): Map<number, number> {
  const failureAt = new Map<number, number>();
  for (const f of scenario.events.host_failures) {
    const prev = failureAt.get(f.host);
    failureAt.set(f.host, prev === undefined ? f.at : Math.min(prev, f.at));
  }
  return failureAt;
}
