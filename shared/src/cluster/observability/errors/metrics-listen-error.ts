/** The metrics server could not listen (port in use, unknown host): a setting to fix, not an internal error. */
export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}
