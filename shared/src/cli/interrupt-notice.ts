import { createLogger } from '../common/logger.js';
import { installShutdown } from '../common/shutdown.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../cluster/config/service-env.js';

/**
 * The command's one signal handler: on Ctrl-C (or SIGTERM) it ends the progress line, says what happened to the
 * work (`notice`), runs `stop` within the shutdown timeout and exits with 130. Returns the remover.
 */
export function interruptNotice(o: { readonly name: string; readonly notice: string; readonly progress?: { readonly done: () => void } | undefined; readonly stop?: () => Promise<void> }): () => void {
  return installShutdown({
    stop: o.stop ?? (async () => {}),
    logger: createLogger(o.name, 'warn'),
    timeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    exitCode: 130,
    onSignal: () => {
      o.progress?.done();
      process.stderr.write(`migsim: ${o.notice}\n`);
    },
  });
}
