import { z } from 'zod';

/**
 * A VM's guest workload, as migration scenarios describe it. Rates are bytes per second of page writes (one 4 KiB
 * page written = 4 KiB dirtied); fractions are of guest RAM.
 */
export const workloadSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle') }).strict(),
  z
    .object({
      kind: z.literal('uniform'),
      /** Page writes per second × 4 KiB, spread uniformly over the working set. */
      dirty_rate_bytes_per_s: z.number().finite().nonnegative(),
      /** Fraction of RAM the writes (and reads) go to. */
      working_set: z.number().gt(0).max(1).default(1),
      /** Fraction of accesses that are reads (they fault back zapped regions but dirty nothing). */
      read_share: z.number().min(0).lt(1).default(0.5),
    })
    .strict(),
  z
    .object({
      kind: z.literal('hotcold'),
      dirty_rate_bytes_per_s: z.number().finite().nonnegative(),
      /** Fraction of RAM that is hot. */
      hot_fraction: z.number().gt(0).lt(1).default(0.1),
      /** Share of the writes that go to the hot set; the cold rest takes the remainder. */
      hot_write_share: z.number().min(0).max(1).default(0.9),
      read_share: z.number().min(0).lt(1).default(0.5),
    })
    .strict(),
  z
    .object({
      kind: z.literal('memstress'),
      /** Percentage of pages written on each pass (the selftest's -w). */
      write_percent: z.number().min(0).max(100).default(100),
      /** Seconds one vCPU takes to sweep its slice once. */
      pass_seconds: z.number().gt(0).default(1),
    })
    .strict(),
]);

export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;
export type WorkloadKind = WorkloadSpec['kind'];
export const WORKLOAD_KINDS = ['idle', 'uniform', 'hotcold', 'memstress'] as const satisfies readonly WorkloadKind[];
