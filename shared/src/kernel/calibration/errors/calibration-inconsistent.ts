import type { CostKey } from '../../mmu/cost-profile.js';

/** The runs ask for a non-positive constant: the assumed constants (or the runs' kernel) contradict the timings. */
export class CalibrationInconsistent extends Error {
  override readonly name = 'CalibrationInconsistent';

  constructor(
    readonly key: CostKey,
    readonly value: number,
  ) {
    super(
      `the fit gives ${key} = ${value.toPrecision(4)}: the runs' timings contradict the assumed constants or the kernel they were simulated with ` +
        '(check the release and module parameters in the runs\' headers, or --kernel)',
    );
  }
}
