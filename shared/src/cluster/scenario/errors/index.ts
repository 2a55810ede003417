export { ScenarioInvalid, type ScenarioIssue } from './scenario-invalid.js';
export { ScenarioNotFound } from './scenario-not-found.js';
