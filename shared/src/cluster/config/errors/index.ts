export { ConfigInvalid, type ConfigIssue } from './config-invalid.js';
