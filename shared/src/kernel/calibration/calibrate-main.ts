import { DEFAULT_PROFILE } from '../mmu/default-profile.js';
import { calibrate } from './calibrate.js';

/** `npm run calibrate`: prints the fitted constants of the default profile and how well each point is met. */
const result = calibrate(DEFAULT_PROFILE);
const out = {
  rounds: result.rounds,
  fitted: Object.fromEntries(Object.entries(result.fitted).map(([k, v]) => [k, Number(v.toPrecision(12))])),
  cond_resched_interval_ns: Number(result.condReschedIntervalNs.toPrecision(12)),
  batched_flushes_point_b: result.batchedFlushes,
  points: result.rows.map((r) => ({
    point: r.point.point,
    figure: r.point.name,
    measured_s: r.point.measuredSeconds,
    simulated_s: Number(r.simulatedSeconds.toPrecision(10)),
    error_pct: Number((r.relativeError * 100).toFixed(4)),
  })),
};
console.log(JSON.stringify(out, null, 2));
