import type { Logger } from './logger.js';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, racing it against a timeout; the process then exits (0 after a
 * clean stop, 1 when the timeout ran out). Returns a function that removes the handlers.
 */
export function installShutdown(stop: () => Promise<void>, logger: Logger, timeoutMs: number): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    void Promise.race([stop().then(() => 'stopped' as const), timeout])
      .then((how) => {
        if (timer) clearTimeout(timer);
        if (how === 'timeout') logger.warn('shutdown timed out', { timeout_ms: timeoutMs });
        process.exit(how === 'stopped' ? 0 : 1);
      })
      .catch((e: Error) => {
        logger.error('shutdown failed', { error: e.message });
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
