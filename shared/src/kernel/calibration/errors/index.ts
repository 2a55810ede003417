export { CalibrationInconsistent } from './calibration-inconsistent.js';
export { CalibrationUnderdetermined, type UnpinnedConstant } from './calibration-underdetermined.js';
export { SelftestOutputInvalid } from './selftest-output-invalid.js';
