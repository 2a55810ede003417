import type { Scenario } from '../scenario/scenario-schema.js';
import type { TenantTraffic } from './flow-network.js';

/** The scenario's network settings (absent: no tenant traffic). */
type Network = Scenario['cluster']['network'];

const HOUR_S = 3600;
const DAY_S = 86400;

/** The hour of the simulated day at `tS` (the profile repeats every 86400 s; time 0 is the start of hour 0). */
function hourOf(tS: number): number {
  return Math.floor((((tS % DAY_S) + DAY_S) % DAY_S) / HOUR_S);
}

/** The share of every host NIC that tenant traffic takes at simulated time `tS`, in [0, 1). */
export function tenantShareAt(network: Network, tS: number): number {
  const t = network?.tenant_traffic ?? 0;
  return typeof t === 'number' ? t : t.daily[hourOf(tS)]!;
}

/**
 * The first time after `tS` (strictly) at which the tenant share changes: an hour boundary where the daily profile
 * steps to another value. Infinity when the share is constant (a number, or a profile of 24 equal values).
 */
export function nextTenantChangeS(network: Network, tS: number): number {
  const t = network?.tenant_traffic ?? 0;
  if (typeof t === 'number') return Infinity;
  let boundary = (Math.floor(tS / HOUR_S) + 1) * HOUR_S;
  for (let k = 0; k < 24; k++, boundary += HOUR_S) {
    if (t.daily[hourOf(boundary)] !== t.daily[hourOf(boundary - HOUR_S)]) return boundary;
  }
  return Infinity;
}

/** The scenario's tenant traffic as the flow network takes it (`FlowNetwork`'s `tenant` argument). */
export function tenantTrafficOf(network: Network): TenantTraffic {
  return { shareAt: (tS) => tenantShareAt(network, tS), nextChangeS: (tS) => nextTenantChangeS(network, tS) };
}
