import { availableParallelism } from 'node:os';

/** Cluster threads of one region run at most: each holds a whole cluster's simulation. */
export const MAX_REGION_THREADS = 64;

/** Defaults of a region run (`runRegion`); base units, the unit in the name. */
export const REGION_DEFAULTS = {
  /**
   * Clusters simulated at once on threads of their own in an embedded region run. Clusters share nothing (live
   * migration stays inside a cluster), so they run side by side; one per core, since each is CPU bound.
   * @defaultValue os.availableParallelism() (at most the region's clusters)
   */
  threads: (): number => availableParallelism(),
  /** Least time between two progress messages of a cluster thread, ms. @defaultValue 250 */
  progressIntervalMs: 250,
} as const;
