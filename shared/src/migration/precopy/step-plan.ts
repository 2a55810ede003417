/** What a step sends at: precopy's rate limit (`max-bandwidth`), or none (stop-and-copy and post-copy lift it). */
export type WireCap = 'precopy' | 'unthrottled';

/**
 * One step of a migration: `beforeS` of work off the wire (CLEARs, syncs, stopping the VM), then `bytes` on the
 * wire at whatever rate the flow gets under `cap`, then `afterS` off the wire (device state, closing the return
 * path). The time on the wire is not known when the step is planned: it depends on the link the flow shares.
 */
export interface StepPlan {
  readonly beforeS: number;
  readonly bytes: number;
  readonly cap: WireCap;
  readonly afterS: number;
}

/** A step off the wire lasting `s` seconds. */
export function offWire(s: number): StepPlan {
  return { beforeS: s, bytes: 0, cap: 'precopy', afterS: 0 };
}

/** A step that works `beforeS`, sends `bytes` under `cap`, then works `afterS`. */
export function onWire(beforeS: number, bytes: number, cap: WireCap, afterS = 0): StepPlan {
  return { beforeS, bytes, cap, afterS };
}

/**
 * What an interrupt leaves: `carry-on` (the step under way goes on as planned), a new step replacing it, or null
 * (the migration is over).
 */
export type InterruptOutcome = 'carry-on' | StepPlan | null;
