export { SelftestOutputInvalid } from './selftest-output-invalid.js';
