import type { LinkTier } from '../network/fabric.js';

/** How far a fleet run has come, reported as results are applied. */
export interface Progress {
  readonly simulatedS: number;
  readonly jobsDone: number;
  readonly jobsSubmitted: number;
  readonly jobsInFlight: number;
  readonly wavesDone: number;
  readonly wavesTotal: number;
  /** Flows on the fabric now (`migsim_flows_active`); left out, the gauge keeps its value. */
  readonly flowsActive?: number;
  /** Each tier's mean link utilisation now, 0..1 (`migsim_link_utilisation{tier}`). */
  readonly linkUtilisation?: Partial<Record<LinkTier, number>>;
}
