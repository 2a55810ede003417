export { MetricsListenError } from './metrics-listen-error.js';
