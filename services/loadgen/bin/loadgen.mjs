#!/usr/bin/env node
// The load generator (configuration from the environment: REDIS_URL, LOAD_MIGRATIONS, LOAD_RUNS, ...).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
let code;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`migsim loadgen: ${e.message}\n`);
  code = 2;
}
process.exit(code);
