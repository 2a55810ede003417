import type { Scenario } from './scenario-schema.js';

/** A problem a check finds in a scenario that the schema accepted: where (a dotted YAML path) and what. */
export interface ScenarioCheckIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A check run on a scenario after the schema accepted it (e.g. that the VMs fit on the hosts). Checks live with the
 * layer that knows what they check (`cluster/fleet/capacity-issues.ts`); `parseScenario` reports their issues
 * with YAML lines like its own.
 */
export type ScenarioCheck = (scenario: Scenario) => readonly ScenarioCheckIssue[];
