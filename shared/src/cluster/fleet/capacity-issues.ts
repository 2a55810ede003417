import type { Scenario } from '../scenario/scenario-schema.js';
import type { ScenarioCheckIssue } from '../scenario/scenario-check.js';
import { buildFleet } from './build-fleet.js';

/** Problems a valid-looking scenario can still have: VMs that do not fit, failures of hosts that do not exist. */
export function capacityIssues(s: Scenario): ScenarioCheckIssue[] {
  const issues: ScenarioCheckIssue[] = [];
  const fleet = buildFleet(s);
  const unplaced = fleet.vms.filter((v) => fleet.placement[v.id]! < 0);
  if (unplaced.length > 0) {
    const need = fleet.vms.reduce((a, v) => a + v.ramBytes, 0);
    const have = fleet.hosts.reduce((a, h) => a + h.memoryBytes, 0);
    issues.push({
      path: 'vms',
      message: `${unplaced.length} of ${fleet.vms.length} VMs do not fit on the hosts (VMs need ${(need / 2 ** 30).toFixed(0)} GiB of RAM, hosts have ${(have / 2 ** 30).toFixed(0)} GiB; vCPUs are limited to cores × cpu_overcommit)`,
    });
  }
  s.events.host_failures.forEach((f, i) => {
    if (f.host >= fleet.hosts.length) issues.push({ path: `events.host_failures.${i}.host`, message: `there are only ${fleet.hosts.length} hosts (0 to ${fleet.hosts.length - 1})` });
  });
  const m = s.policies.maintenance;
  if (m?.hosts !== undefined && m.hosts > fleet.hosts.length) {
    issues.push({ path: 'policies.maintenance.hosts', message: `there are only ${fleet.hosts.length} hosts` });
  }
  return issues;
}
