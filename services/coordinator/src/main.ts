import { createLogger } from '../../../shared/src/common/logger.js';
import { installShutdown } from '../../../shared/src/common/shutdown.js';
import { coordinatorConfigFromEnv } from '../../../shared/src/cluster/coordinator/coordinator-env.js';
import { Coordinator } from '../../../shared/src/cluster/coordinator/coordinator.js';
import { ConfigInvalid } from '../../../shared/src/cluster/config/errors/config-invalid.js';
import { loadExperimentScenario } from '../../../shared/src/cluster/experiment/load-experiment-scenario.js';

/** The coordinator service: settings from the environment (REDIS_URL, SCENARIO, OUT_DIR, ...), one run, then exit. */
export async function main(): Promise<void> {
  const config = coordinatorConfigFromEnv(process.env);
  const logger = createLogger('coordinator', config.logLevel);
  const { file, scenario } = loadExperimentScenario(config.scenario, config.seed);
  if (scenario.region) {
    // One coordinator runs one cluster; a region's clusters are coordinator jobs of a flow.
    throw new ConfigInvalid([{ key: 'SCENARIO', message: `${file} is a region; this service coordinates one cluster. Run the region with \`migsim run ${file} --redis URL\` against workers started with WORKER_COORDINATORS=N (or --coordinators N)` }]);
  }
  const coordinator = new Coordinator({ ...config, scenario }, logger);
  installShutdown({ stop: () => coordinator.close(), logger, timeoutMs: config.shutdownTimeoutMs });
  try {
    const r = await coordinator.run();
    logger.info('run finished', { run_id: coordinator.runId, digest: r.summary.digest, jobs: r.summary.jobs, from_cache: r.jobsFromCache });
    if (config.lingerSeconds > 0) await new Promise((resolve) => setTimeout(resolve, config.lingerSeconds * 1000));
  } finally {
    await coordinator.close();
  }
}
