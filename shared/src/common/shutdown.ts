import type { Logger } from './logger.js';

export interface ShutdownOptions {
  /** Stops the process's work (idempotent); the process exits when it resolves. */
  readonly stop: () => Promise<void>;
  readonly logger: Logger;
  /** Time `stop` has before the process exits anyway, ms. */
  readonly timeoutMs: number;
  /** Exit status after a clean stop. @defaultValue 0 */
  readonly exitCode?: number;
  /** Called first, once, with the signal (e.g. to tell a person at a terminal what happens now). */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * The process's one shutdown handler: on the first SIGTERM or SIGINT, runs `stop` once, racing it against the
 * timeout, then exits (`exitCode` after a clean stop, 1 when time ran out or the stop failed). Later signals are
 * ignored while it stops. Returns a function that removes the handler (for a command that finished on its own).
 */
export function installShutdown(o: ShutdownOptions): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    o.onSignal?.(signal);
    o.logger.info('shutting down', { signal });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), o.timeoutMs);
    });
    void Promise.race([o.stop().then(() => 'stopped' as const), timeout])
      .then((how) => {
        if (timer) clearTimeout(timer);
        if (how === 'timeout') o.logger.warn('shutdown timed out', { timeout_ms: o.timeoutMs });
        process.exit(how === 'stopped' ? (o.exitCode ?? 0) : 1);
      })
      .catch((e: Error) => {
        o.logger.error('shutdown failed', { error: e.message });
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
