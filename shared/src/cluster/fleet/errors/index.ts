export { FleetInvariantViolation } from './fleet-invariant-violation.js';
