import { z } from 'zod';
import { parseRate } from '../../common/units.js';
import { rateSchema } from './units-schema.js';

/** A link's capacity: a rate such as `40Gbit/s`, more than zero. */
const linkRateSchema = rateSchema.pipe(z.number().positive({ error: 'must be a rate above zero (null: no limit)' }));

/** `A:B`: A bytes of host NICs per B bytes of uplink. */
const RATIO = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/;

/** A rack's top-of-rack uplink: a rate, or an oversubscription ratio of the rack's NICs (sum of NICs / ratio). */
export type TorUplink = { readonly bytesPerS: number } | { readonly oversubscription: number };

const torUplinkSchema = z
  .union([z.number(), z.string()])
  .nullable()
  .transform((v, ctx): TorUplink | null => {
    if (v === null) return null;
    const ratio = typeof v === 'string' ? RATIO.exec(v) : null;
    if (ratio) {
      const nics = Number(ratio[1]);
      const uplink = Number(ratio[2]);
      if (!(nics > 0 && uplink > 0)) {
        ctx.addIssue({ code: 'custom', message: `both sides of an oversubscription ratio must be above zero (got ${JSON.stringify(v)})` });
        return z.NEVER;
      }
      if (nics < uplink) {
        ctx.addIssue({ code: 'custom', message: `an oversubscription ratio must be at least 1:1 (got ${JSON.stringify(v)}; for an uplink faster than the NICs give its rate or null)` });
        return z.NEVER;
      }
      return { oversubscription: nics / uplink };
    }
    const n = typeof v === 'number' ? v : parseRate(v);
    if (n === undefined || !Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `must be a rate such as 40Gbit/s, an oversubscription ratio such as "3:1", or null (got ${JSON.stringify(v)})` });
      return z.NEVER;
    }
    if (n <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be a rate above zero (got ${JSON.stringify(v)}; null: no uplink limit)` });
      return z.NEVER;
    }
    return { bytesPerS: n };
  });

/** The share of each host's NIC that tenant traffic takes, in [0, 1). */
const tenantShareSchema = z.number().min(0).lt(1);

/**
 * The cluster's network fabric: hosts in racks (in host order), each rack's top-of-rack uplink, the spine between
 * racks, and the tenant traffic that takes a share of every host's NIC, constant or by hour of the simulated day.
 */
export const networkSchema = z
  .object({
    /** Hosts per rack, in host order; must divide the number of hosts. Default: every host in one rack. */
    hosts_per_rack: z.number().int().positive().optional(),
    /** Each rack's uplink, each way: a rate, or `"N:M"` (the first rack's NICs summed, divided by N/M); null: no limit. */
    tor_uplink: torUplinkSchema.default(null),
    /** The spine every inter-rack flow crosses; null: none. */
    spine: linkRateSchema.nullable().default(null),
    /** Share of every host NIC taken by tenant traffic: a constant, or `{ daily: [24 shares] }`, hour 0 first. */
    tenant_traffic: z.union([tenantShareSchema, z.object({ daily: z.array(tenantShareSchema).length(24) }).strict()]).default(0),
  })
  .strict();

export type NetworkSettings = z.output<typeof networkSchema>;

/** The divisors of `n`, ascending. */
export function divisorsOf(n: number): number[] {
  const low: number[] = [];
  const high: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d !== 0) continue;
    low.push(d);
    if (d * d !== n) high.unshift(n / d);
  }
  return [...low, ...high];
}
