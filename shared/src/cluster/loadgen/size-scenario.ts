import type { Scenario } from '../scenario/scenario-schema.js';

/**
 * A template scenario resized for a load test: the host classes keep their proportions and the fleet gets about
 * `vms` VMs (with `per_host`, the host count follows; with `total`, the total is replaced), the maintenance wave
 * keeps its share of the fleet, and the seed and name are set. Rolling maintenance migrates every VM about once
 * (more when a VM lands on a host that is upgraded later), so a fleet of `vms` VMs gives at least that many
 * migrations.
 */
export function sizeScenario(template: Scenario, vms: number, seed: number, name: string = `${template.name}-${vms}vms`): Scenario {
  const hostsBefore = template.cluster.host_classes.reduce((n, c) => n + c.count, 0);
  let hosts: number;
  let vmsSpec: Scenario['vms'];
  if (template.vms.per_host !== undefined) {
    const perHost = Math.max(1, template.vms.per_host);
    hosts = Math.max(2, Math.ceil(vms / perHost));
    vmsSpec = template.vms;
  } else {
    const ratio = vms / Math.max(1, template.vms.total ?? 1);
    hosts = Math.max(2, Math.round(hostsBefore * ratio));
    vmsSpec = { ...template.vms, total: vms };
  }
  // Distribute hosts over the classes in proportion (largest remainder), each class at least one host.
  const classes = template.cluster.host_classes;
  const exact = classes.map((c) => (c.count / hostsBefore) * hosts);
  const counts = exact.map((x) => Math.max(1, Math.floor(x)));
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0, total = counts.reduce((a, b) => a + b, 0); total < hosts; k++, total++) counts[order[k % order.length]!.i]!++;
  const m = template.policies.maintenance;
  const maintenance = m && { ...m, wave_size: Math.max(1, Math.round((m.wave_size / hostsBefore) * hosts)), ...(m.hosts !== undefined ? { hosts: Math.max(1, Math.round((m.hosts / hostsBefore) * hosts)) } : {}) };
  return {
    ...template,
    name,
    seed,
    cluster: { host_classes: classes.map((c, i) => ({ ...c, count: counts[i]! })) },
    vms: vmsSpec,
    policies: { ...template.policies, ...(maintenance ? { maintenance } : {}) },
    // Host failures name host indices of the template's fleet; keep only those that still exist.
    events: { ...template.events, host_failures: template.events.host_failures.filter((f) => f.host < hosts) },
  };
}
