import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../../shared/src/cluster/scenario/load-scenario.js';
import { simgridFleetArgs } from '../../../bench/simgrid-fleet-args.js';

describe('the fleet benchmark maps the bundled 1000-host scenario onto the SimGrid harness', () => {
  it('maps hosts, VMs, mean RAM, the NIC, the cap, the outbound limit and the wave size; lists the racks as unmapped', () => {
    const { args, unmapped } = simgridFleetArgs(loadScenario('scenarios/rolling-upgrade-1000.yaml'));
    expect(args).toEqual([
      '--hosts=1000',
      '--vms-per-host=24',
      '--ram-mib=65536',
      '--cores-per-vm=16',
      '--host-cores=128',
      '--dp-intensity=8',
      '--mig-speed-mibps=1192',
      '--link-bandwidth-gbps=25',
      '--concurrency=1',
      '--waves=100',
    ]);
    expect(unmapped.join('\n')).toMatch(/racks and uplinks \(hosts_per_rack 40/);
  });
});
