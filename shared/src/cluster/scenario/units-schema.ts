import { z } from 'zod';
import { parseDuration, parseRate, parseSizeStrict } from '../../common/units.js';

/** A zod type for a human quantity: a number in base units, or a string with a unit parsed by `parse`. */
function quantity(parse: (t: string) => number | undefined, form: string) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parse(v);
    if (n === undefined || !Number.isFinite(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: `must be ${form} (got ${JSON.stringify(v)})` });
      return z.NEVER;
    }
    return n;
  });
}

/** Bytes: `64GiB`, `512MiB`, or a number of bytes. */
export const sizeSchema = quantity(parseSizeStrict, 'a size such as 64GiB or 512MiB');
/** Bytes per second: `10Gbit/s`, `128MiB/s`, or a number. */
export const rateSchema = quantity(parseRate, 'a rate such as 10Gbit/s or 128MiB/s');
/** Seconds: `300ms`, `30s`, `2h`, or a number of seconds. */
export const durationSchema = quantity(parseDuration, 'a duration such as 300ms, 30s or 2h');
export const fractionSchema = z.number().min(0).max(1);
