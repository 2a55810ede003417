import type { Progress } from '../fleet/progress.js';
import type { Scenario } from '../scenario/scenario-schema.js';
import type { ClusterRunResult } from './cluster-run.js';

/** What a cluster thread is asked to run: one cluster of a region, embedded (`cluster-thread.ts`). */
export interface ClusterThreadTask {
  readonly scenario: Scenario;
  readonly name: string;
  readonly runId: string;
  /** The region's output folder (the cluster writes under `outDir/<name>/`). */
  readonly outDir: string;
  readonly ndjson?: boolean;
  /** Least time between two progress messages, ms. */
  readonly progressIntervalMs: number;
}

/** What a cluster thread posts back: progress while it runs, then its result or why it failed. */
export type ClusterThreadMessage =
  | { readonly kind: 'progress'; readonly progress: Progress }
  | { readonly kind: 'done'; readonly result: ClusterRunResult }
  | { readonly kind: 'failed'; readonly error: string; readonly name: string };
