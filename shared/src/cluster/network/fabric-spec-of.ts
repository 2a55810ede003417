import type { Scenario } from '../scenario/scenario-schema.js';
import type { FabricSpec } from './fabric.js';

/**
 * The fabric of a scenario's hosts, `hostNics` being each host's NIC in host order (bytes/s): `hosts_per_rack`
 * (all hosts in one rack by default), the top-of-rack uplink and the spine. An uplink given as an oversubscription
 * ratio `N:M` is the sum of the first rack's NICs × M / N: the fabric has one uplink speed for every rack, so with
 * host classes of different NICs the first rack sets it. No `cluster.network`: one rack, no uplink, no spine.
 */
export function fabricSpecOf(scenario: Scenario, hostNics: readonly number[]): FabricSpec {
  const net = scenario.cluster.network;
  const hostsPerRack = Math.max(1, net?.hosts_per_rack ?? hostNics.length);
  const uplink = net?.tor_uplink ?? null;
  let torUplink: number | null = null;
  if (uplink !== null) {
    torUplink = 'bytesPerS' in uplink ? uplink.bytesPerS : hostNics.slice(0, hostsPerRack).reduce((a, b) => a + b, 0) / uplink.oversubscription;
  }
  return { hostNics, hostsPerRack, torUplink, spine: net?.spine ?? null };
}
