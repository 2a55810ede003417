import { describe, expect, it } from 'vitest';
import { STREAM } from '../../../../shared/src/migration/precopy/qemu-defaults.js';
import { C1_KS, c1Scenario, c3Scenario, NIC_GBPS, RAM_MIB, runMigsimCase } from '../../../bench/simgrid-cases.js';

/**
 * migsim's side of the SimGrid peer's contention cases C1 (shared NIC) and C3 (shared backbone), against the fluid
 * closed form; the SimGrid side is in docs/simgrid-side-by-side.md (`npm run compare:simgrid`, not in CI: no SimGrid).
 */

/** An idle VM's RAM through `rate` bytes/s, the fluid model's duration without fixed costs. */
const fluidS = (rate: number) => (RAM_MIB * 2 ** 20) / rate;
const NIC = (NIC_GBPS * 1e9) / 8;

describe('SimGrid contention cases, migsim against the fluid closed form', () => {
  it('the cases use a 10 Gbit/s NIC that one stream can fill, so the NIC, not the stream, binds', () => {
    expect(STREAM.bytesPerCoreS).toBeGreaterThanOrEqual(NIC);
  });

  it('C1: k idle VMs leaving one NIC at once each take about k times one alone', async () => {
    const one = await runMigsimCase(c1Scenario(1));
    expect(one.migrations).toBe(1);
    // One alone: its RAM at the NIC's rate, plus fixed costs (setup, syncs, switchover) of well under 5 %.
    expect(one.meanS).toBeGreaterThanOrEqual(fluidS(NIC));
    expect(one.meanS / fluidS(NIC)).toBeLessThan(1.05);
    for (const k of C1_KS.filter((x) => x > 1)) {
      const r = await runMigsimCase(c1Scenario(k));
      expect(r.migrations).toBe(k);
      expect(r.maxS - r.minS).toBeLessThan(1e-6);
      expect(r.meanS / (k * one.meanS)).toBeGreaterThan(0.95);
      expect(r.meanS / (k * one.meanS)).toBeLessThan(1.05);
      // The fluid share: RAM at NIC / k, never faster.
      expect(r.meanS).toBeGreaterThanOrEqual(fluidS(NIC / k));
    }
  });

  it('C3: 8 flows through a 20 Gbit/s spine get 2.5 Gbit/s each (≈ 4 × no spine); an 80 Gbit/s spine leaves them NIC-bound', async () => {
    const open = await runMigsimCase(c3Scenario(0));
    const bb20 = await runMigsimCase(c3Scenario(20));
    const bb80 = await runMigsimCase(c3Scenario(80));
    for (const r of [open, bb20, bb80]) {
      expect(r.migrations).toBe(8);
      expect(r.maxS - r.minS).toBeLessThan(1e-6);
    }
    expect(open.meanS / fluidS(NIC)).toBeGreaterThanOrEqual(1);
    expect(open.meanS / fluidS(NIC)).toBeLessThan(1.05);
    expect(bb20.meanS).toBeGreaterThanOrEqual(fluidS(20e9 / 8 / 8));
    expect(bb20.meanS / (4 * open.meanS)).toBeGreaterThan(0.95);
    expect(bb20.meanS / (4 * open.meanS)).toBeLessThan(1.05);
    expect(bb80.meanS / open.meanS).toBeGreaterThan(0.99);
    expect(bb80.meanS / open.meanS).toBeLessThan(1.01);
  });
});
