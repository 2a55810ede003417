import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENTRIES } from './entries.js';

/**
 * `npm run bench [-- --only NAME]`: runs each entry in a fresh process and prints one JSON object
 * { NAME: result, ... }. Performance targets live here, never in tests.
 */
function main(argv: string[]): number | undefined {
  const child = argv.indexOf('--child');
  if (child >= 0) {
    const name = argv[child + 1]!;
    void Promise.resolve(ENTRIES[name]!()).then((r) => {
      process.stdout.write(JSON.stringify(r));
      process.exit(0);
    });
    return 0;
  }
  const only = argv.indexOf('--only');
  const names = only >= 0 ? [argv[only + 1] ?? ''] : Object.keys(ENTRIES);
  for (const n of names) {
    if (!ENTRIES[n]) {
      process.stderr.write(`bench: unknown entry '${n}'; entries: ${Object.keys(ENTRIES).join(', ')}\n`);
      return 2;
    }
  }
  const out: Record<string, unknown> = {};
  for (const n of names) {
    process.stderr.write(`bench: ${n}…\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', n], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      // The region entry runs 2.4 M migrations: it may take longer than the others on a loaded machine.
      timeout: (n === 'region_100k' ? 60 : 15) * 60_000,
    });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      return 1;
    }
    out[n] = JSON.parse(r.stdout);
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

const code = main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
