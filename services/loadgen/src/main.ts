import { createLogger } from '../../../shared/src/common/logger.js';
import { installShutdown } from '../../../shared/src/common/shutdown.js';
import { loadExperimentScenario } from '../../../shared/src/cluster/experiment/load-experiment-scenario.js';
import { LoadGenerator } from '../../../shared/src/cluster/loadgen/load-generator.js';
import { parseLoadgenConfig } from '../../../shared/src/cluster/loadgen/loadgen-env.js';

/** The load generator: settings from the environment (REDIS_URL, LOAD_*, OUT_DIR, METRICS_*); 0 when every run finished. */
export async function main(): Promise<number> {
  const config = parseLoadgenConfig(process.env);
  const logger = createLogger('loadgen', config.LOG_LEVEL);
  const { scenario: template } = loadExperimentScenario(config.LOAD_SCENARIO);
  const gen = new LoadGenerator(config, template, logger);
  installShutdown({ stop: () => gen.close(), logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  try {
    const report = await gen.run();
    if (config.LINGER_SECONDS > 0) await new Promise((resolve) => setTimeout(resolve, config.LINGER_SECONDS * 1000));
    return report.runs.every((r) => r.ok) ? 0 : 1;
  } finally {
    await gen.close();
  }
}
