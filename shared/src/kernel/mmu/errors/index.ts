export { ProfileInvalid } from './profile-invalid.js';
