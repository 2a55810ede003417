/**
 * A stand-in for the region's `runCluster` (`run-region.ts`, built beside this work) while it has not landed: the
 * same signature, over `runExperiment`. The region flow imports `runCluster` from here only, so switching to the real
 * one is a one-line change in this file.
 */
import { createHash } from 'node:crypto';
import { runExperiment } from '../experiment/run-experiment.js';
import type { JobTransport } from '../fleet/job-transport.js';
import type { Progress } from '../fleet/progress.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';

export interface RunClusterOptions {
  readonly scenario: Scenario;
  readonly name: string;
  readonly runId: string;
  readonly transport: JobTransport;
  readonly outDir: string;
  readonly onProgress?: (p: Progress) => void;
}

/** Runs one cluster of a region with the given transport and writes its outputs into `outDir`. */
export async function runCluster(opts: RunClusterOptions): Promise<ClusterRunResult> {
  const { summary } = await runExperiment({
    scenario: opts.scenario,
    transport: opts.transport,
    runId: opts.runId,
    outDir: opts.outDir,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  return { name: opts.name, summary, digest: summary.digest, migrations: summary.migrations.total };
}

/** The region's digest: sha256 over its clusters' names and digests, in the region's order. */
export function regionDigestOf(clusters: readonly Pick<ClusterRunResult, 'name' | 'digest'>[]): string {
  const h = createHash('sha256');
  for (const c of clusters) h.update(`${c.name} ${c.digest}\n`);
  return h.digest('hex');
}

/**
 * A region of `n` clusters from one cluster scenario: cluster `c<i>` is the template with seed `seed + i` (a
 * stand-in for the region scenario's own derivation, for tests and benchmarks).
 */
export function clustersFromTemplate(template: Scenario, n: number): { name: string; scenario: Scenario }[] {
  return Array.from({ length: n }, (_, i) => ({ name: `c${i}`, scenario: { ...template, name: `${template.name}-c${i}`, seed: template.seed + i } }));
}
