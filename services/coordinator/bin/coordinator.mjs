#!/usr/bin/env node
// The coordinator service (configuration from the environment: REDIS_URL, SCENARIO, OUT_DIR, RUN_ID, ...).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const { exitStatusOf } = await import('../../../shared/src/cluster/config/exit-status.ts');
try {
  await main();
  process.exit(0);
} catch (e) {
  process.stderr.write(`migsim coordinator: ${e.message}\n`);
  process.exit(exitStatusOf(e));
}
