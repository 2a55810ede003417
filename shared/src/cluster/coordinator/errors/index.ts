export { CheckpointInvalid } from './checkpoint-invalid.js';
