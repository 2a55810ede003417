#!/usr/bin/env node
// The migsim command. Sources are TypeScript, loaded through tsx so that `npx migsim` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
