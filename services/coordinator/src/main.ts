import { loadScenarioOrExit, scenarioPath } from '../../../shared/src/cli/run-command.js';
import { createLogger } from '../../../shared/src/common/logger.js';
import { installShutdown } from '../../../shared/src/common/shutdown.js';
import { Coordinator } from '../../../shared/src/cluster/coordinator/coordinator.js';
import { parseCoordinatorConfig } from '../../../shared/src/cluster/coordinator/coordinator-env.js';

/** The coordinator service's entrypoint: configuration from the environment (REDIS_URL, SCENARIO, OUT_DIR, ...). */
export async function main(): Promise<void> {
  const config = parseCoordinatorConfig(process.env);
  const logger = createLogger('coordinator', config.LOG_LEVEL);
  const scenario = loadScenarioOrExit(scenarioPath(config.SCENARIO), config.SEED === undefined ? undefined : String(config.SEED));
  const coordinator = new Coordinator(
    {
      scenario,
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      runId: config.RUN_ID,
      outDir: config.OUT_DIR,
      metrics: config.METRICS_PORT === undefined ? undefined : { host: config.METRICS_HOST, port: config.METRICS_PORT },
    },
    logger,
  );
  installShutdown(() => coordinator.stop(), logger, 10_000);
  const r = await coordinator.run();
  logger.info('run finished', { run_id: coordinator.runId, digest: r.summary.digest, jobs: r.summary.jobs, from_cache: r.jobsFromCache });
  if (config.LINGER_SECONDS > 0) await new Promise((resolve) => setTimeout(resolve, config.LINGER_SECONDS * 1000));
  await coordinator.stop();
}
