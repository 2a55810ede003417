#!/usr/bin/env node
// The worker service (configuration from the environment: REDIS_URL, WORKER_CONCURRENCY, ...).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const { exitStatusOf } = await import('../../../shared/src/cluster/config/exit-status.ts');
try {
  await main();
} catch (e) {
  process.stderr.write(`migsim worker: ${e.message}\n`);
  process.exit(exitStatusOf(e));
}
