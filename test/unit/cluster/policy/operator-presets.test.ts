import { describe, expect, it } from 'vitest';
import { completionTimeoutS, downtimeSchedule, OPERATOR_PRESETS } from '../../../../shared/src/cluster/policy/operator-presets.js';

const GiB = 2 ** 30;

describe('operator presets reproduce the orchestrators\' own defaults', () => {
  it("Nova's downtime steps: the docstring's example (10 steps, 30 s delay, 3 GB, 400 ms) and the defaults (nova/virt/libvirt/migration.py)", () => {
    const example = { ...OPERATOR_PRESETS.nova, downtimeLimitS: 0.4, downtimeSteps: { steps: 10, delayPerGiBS: 30 } };
    expect(downtimeSchedule(example, 3 * GiB).map((s) => [s.afterS, Math.round(s.limitS * 1000)])).toEqual([
      [0, 40], [90, 76], [180, 112], [270, 148], [360, 184], [450, 220], [540, 256], [630, 292], [720, 328], [810, 364], [900, 400],
    ]);
    const d = downtimeSchedule(OPERATOR_PRESETS.nova, 8 * GiB);
    expect(d[0]).toEqual({ afterS: 0, limitS: 0.05 });
    expect(d[10]).toEqual({ afterS: 6000, limitS: 0.5 });
  });

  it('completion timeouts per GiB: Nova 800 s with a 2 GiB floor, KubeVirt 150 s, HCO 20 s (PR #4426)', () => {
    expect(completionTimeoutS(OPERATOR_PRESETS.nova, 1 * GiB)).toBe(1600);
    expect(completionTimeoutS(OPERATOR_PRESETS.nova, 16 * GiB)).toBe(12800);
    expect(completionTimeoutS(OPERATOR_PRESETS.kubevirt, 16 * GiB)).toBe(2400);
    expect(completionTimeoutS(OPERATOR_PRESETS['kubevirt-hco'], 16 * GiB)).toBe(320);
  });

  it('concurrency: Nova 1 out per host; KubeVirt 2 out per node and 5 per cluster; HCO 1 out per node', () => {
    expect(OPERATOR_PRESETS.nova.maxOutboundPerHost).toBe(1);
    expect([OPERATOR_PRESETS.kubevirt.maxOutboundPerHost, OPERATOR_PRESETS.kubevirt.maxPerCluster]).toEqual([2, 5]);
    expect(OPERATOR_PRESETS['kubevirt-hco'].maxOutboundPerHost).toBe(1);
  });
});
