import type { CostKey } from '../../mmu/cost-profile.js';

/** A fitted constant the runs do not pin, why, and the selftest run that would. */
export interface UnpinnedConstant {
  readonly key: CostKey;
  /** Why the runs do not determine it: no phase spends time on it, or it moves together with other constants. */
  readonly reason: string;
  /** The `dirty_log_perf_test` invocation (and module parameters) that would pin it, or what to do instead. */
  readonly suggestion: string;
}

/** The runs do not determine every constant they exercise: the fit is refused rather than guessed. */
export class CalibrationUnderdetermined extends Error {
  override readonly name = 'CalibrationUnderdetermined';

  constructor(readonly unpinned: readonly UnpinnedConstant[]) {
    super(
      `the runs do not pin ${unpinned.map((u) => u.key).join(', ')}:\n` +
        unpinned.map((u) => `  ${u.key}: ${u.reason}; ${u.suggestion}`).join('\n'),
    );
  }
}
