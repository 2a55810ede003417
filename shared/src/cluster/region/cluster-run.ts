import type { QuantileSketchJson, RunSummary } from '../report/run-summary.js';

/**
 * One cluster's run within a region, as the region run collects it: the cluster's name, its summary (the same
 * shape `migsim run` writes) and its digest. The cluster's records went to its own outputs as they completed.
 */
export interface ClusterRunResult {
  /** `c0`, `c1`, … or the name the region gives it. */
  readonly name: string;
  readonly summary: RunSummary;
  readonly digest: string;
  readonly migrations: number;
  /**
   * The quantile sketches behind the summary's percentiles (serialisable), for the region's percentiles over all
   * its clusters; a result without them counts in the region's totals but not in its percentiles.
   */
  readonly sketches?: { readonly migration_time_s: QuantileSketchJson; readonly downtime_s: QuantileSketchJson };
}
