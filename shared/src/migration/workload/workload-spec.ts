import { z } from 'zod';

/** How the guest walks its memory: page by page in address order (memstress's default), or at random. */
export const ACCESS_PATTERNS = ['random', 'sequential'] as const;
export type AccessPattern = (typeof ACCESS_PATTERNS)[number];

/**
 * What every workload says about its vCPUs and memory besides its writes: the share of vCPUs in guest mode, the
 * share of RAM touched since boot (what KVM has mapped when the migration starts; untouched RAM is zero), and the
 * access pattern.
 */
export function workloadActivity(utilisation: number, access: AccessPattern) {
  return {
    /**
     * Fraction of the VM's vCPUs in guest mode (the rest halted): `kvm_make_all_cpus_request` IPIs only vCPUs in
     * guest mode, so remote flushes, their stalls and the disable's races scale with it.
     */
    utilisation: z.number().min(0).max(1).default(utilisation),
    /** Fraction of guest RAM the guest has touched since it started, hence mapped by KVM; the rest is zero pages. */
    touched_fraction: z.number().min(0).max(1).default(1),
    /** Page-by-page in address order or at random: decides how dirty pages cluster in bitmap words and chunks. */
    access: z.enum(ACCESS_PATTERNS).default(access),
  };
}

/**
 * A VM's guest workload, as migration scenarios describe it. Rates are bytes per second of page writes (one 4 KiB
 * page written = 4 KiB dirtied); fractions are of guest RAM.
 */
export const workloadSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle'), ...workloadActivity(0, 'random') }).strict(),
  z
    .object({
      kind: z.literal('uniform'),
      /** Page writes per second × 4 KiB, spread uniformly over the working set. */
      dirty_rate_bytes_per_s: z.number().finite().nonnegative(),
      /** Fraction of RAM the writes (and reads) go to. */
      working_set: z.number().gt(0).max(1).default(1),
      /** Fraction of accesses that are reads (they fault back zapped regions but dirty nothing). */
      read_share: z.number().min(0).lt(1).default(0.5),
      ...workloadActivity(1, 'random'),
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
      ...workloadActivity(1, 'random'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('memstress'),
      /** Percentage of pages written on each pass (the selftest's -w). */
      write_percent: z.number().min(0).max(100).default(100),
      /** Seconds one vCPU takes to sweep its slice once. */
      pass_seconds: z.number().gt(0).default(1),
      ...workloadActivity(1, 'sequential'),
    })
    .strict(),
]);

export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;
export type WorkloadKind = WorkloadSpec['kind'];
export const WORKLOAD_KINDS = ['idle', 'uniform', 'hotcold', 'memstress'] as const satisfies readonly WorkloadKind[];
