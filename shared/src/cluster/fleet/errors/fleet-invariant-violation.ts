/**
 * A state the fleet simulation relies on never reaching, reached anyway: continuing would give a run whose outcome
 * depends on timing instead of on the scenario, so the run stops. The message says which invariant and why.
 */
export class FleetInvariantViolation extends Error {
  override readonly name = 'FleetInvariantViolation';
}
