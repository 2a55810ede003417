import { RateHistory } from './rate-history.js';
import type { WireCap } from './step-plan.js';

/** The link a migration sends on: when a transfer started at `startS` is through, and how much of it is by `atS`. */
export interface Wire {
  endOf(startS: number, bytes: number, cap: WireCap): number;
  sentBy(startS: number, atS: number, cap: WireCap): number;
}

/** A migration alone on its link: precopy at `precopyBytesPerS`, stop-and-copy and post-copy at `unthrottledBytesPerS`. */
export function constantWire(precopyBytesPerS: number, unthrottledBytesPerS: number): Wire {
  const rate = (cap: WireCap) => (cap === 'precopy' ? precopyBytesPerS : unthrottledBytesPerS);
  return {
    endOf: (startS, bytes, cap) => (bytes > 0 ? startS + bytes / rate(cap) : startS),
    sentBy: (startS, atS, cap) => Math.max(0, atS - startS) * rate(cap),
  };
}

/**
 * A migration whose flow shares the fabric: the rates it got, as the coordinator's network gave them (each already
 * under the flow's cap at the time, so `cap` is not applied again).
 */
export function historyWire(history: RateHistory): Wire {
  return {
    endOf: (startS, bytes) => history.endOf(startS, bytes),
    sentBy: (startS, atS) => history.sentBy(startS, atS),
  };
}
