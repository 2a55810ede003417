export { ClusterRunFailed } from './cluster-run-failed.js';
