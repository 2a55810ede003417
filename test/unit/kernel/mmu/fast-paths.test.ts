import { afterEach, describe, expect, it } from 'vitest';
import { parseDirtyLogPerfArgs } from '../../../../shared/src/cli/dirty-log-perf-command.js';
import { fastPaths } from '../../../../shared/src/kernel/mmu/fast-paths.js';
import { runDirtyLogPerf, type DirtyLogPerfRun } from '../../../../shared/src/kernel/selftest/dirty-log-perf.js';

/** Everything a run reports except wall-clock time, with simulated times rounded to the picosecond. */
function observable(run: DirtyLogPerfRun): string {
  return JSON.stringify({ ...run, commonWallNs: 0, peakStateBytes: 0, params: null, strategies: run.strategies.map((s) => ({ ...s, wallNs: 0 })) }, (_k, v) => {
    if (v instanceof Float64Array) return Array.from(v, (x) => Math.round(x * 1e3) / 1e3);
    if (typeof v === 'number') return Math.round(v * 1e3) / 1e3;
    return v;
  });
}

const SCENARIOS = [
  '-v 4 -b 64M -s anonymous_hugetlb_2mb -e',
  '-v 3 -b 48M -s anonymous_hugetlb_2mb -e -x 3',
  '-v 2 -b 1G -s anonymous_hugetlb_1gb -e',
  '-v 2 -b 1G -s anonymous_hugetlb_1gb --eager-split off',
  '-v 4 -b 32M -s anonymous -g',
  '-v 4 -b 64M -s anonymous_thp --thp-coverage 0.5 -w 60 -e',
  '-v 2 -b 32M -s anonymous_hugetlb_2mb -a -e --pml off',
  '-v 2 -b 64M -s anonymous_hugetlb_2mb -g --eager-split off -i 3',
];

describe('fast paths leave exactly what the general paths leave', () => {
  afterEach(() => {
    fastPaths.enabled = true;
  });
  for (const args of SCENARIOS) {
    it(`dirty-log-perf ${args}`, () => {
      const params = parseDirtyLogPerfArgs(args.split(' '));
      fastPaths.enabled = true;
      const fast = observable(runDirtyLogPerf(params));
      fastPaths.enabled = false;
      const general = observable(runDirtyLogPerf(params));
      expect(fast).toBe(general);
    });
  }
});
