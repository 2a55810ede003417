export { SweepInvalid } from './sweep-invalid.js';
