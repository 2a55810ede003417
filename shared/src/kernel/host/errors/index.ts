export { KernelSettingsInvalid, type KernelSettingsIssue } from './kernel-settings-invalid.js';
