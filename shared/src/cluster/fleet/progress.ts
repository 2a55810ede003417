/** How far a fleet run has come, reported as results are applied. */
export interface Progress {
  readonly simulatedS: number;
  readonly jobsDone: number;
  readonly jobsSubmitted: number;
  readonly jobsInFlight: number;
  readonly wavesDone: number;
  readonly wavesTotal: number;
}
