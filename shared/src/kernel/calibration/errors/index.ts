export { CalibrationInconsistent } from './calibration-inconsistent.js';
export { CalibrationUnderdetermined, type UnpinnedConstant } from './calibration-underdetermined.js';
