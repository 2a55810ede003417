#!/usr/bin/env node
// The load generator (configuration from the environment: REDIS_URL, LOAD_MIGRATIONS, LOAD_RUNS, ...).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const { exitStatusOf } = await import('../../../shared/src/cluster/config/exit-status.ts');
let code;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`migsim loadgen: ${e.message}\n`);
  code = exitStatusOf(e);
}
process.exit(code);
