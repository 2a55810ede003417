import { loadScenarioOrExit, scenarioPath } from '../../../shared/src/cli/run-command.js';
import { createLogger } from '../../../shared/src/common/logger.js';
import { installShutdown } from '../../../shared/src/common/shutdown.js';
import { LoadGenerator } from '../../../shared/src/cluster/loadgen/load-generator.js';
import { parseLoadgenConfig } from '../../../shared/src/cluster/loadgen/loadgen-env.js';

/** The load generator's entrypoint: configuration from the environment (REDIS_URL, LOAD_*, OUT_DIR, METRICS_*). */
export async function main(): Promise<number> {
  const config = parseLoadgenConfig(process.env);
  const logger = createLogger('loadgen', config.LOG_LEVEL);
  const template = loadScenarioOrExit(scenarioPath(config.LOAD_SCENARIO), undefined);
  const gen = new LoadGenerator(config, template, logger);
  installShutdown(() => gen.stop(), logger, 10_000);
  const report = await gen.run();
  if (config.LINGER_SECONDS > 0) await new Promise((resolve) => setTimeout(resolve, config.LINGER_SECONDS * 1000));
  await gen.stop();
  return report.runs.every((r) => r.ok) ? 0 : 1;
}
