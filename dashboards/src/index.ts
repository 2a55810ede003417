import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { overviewDashboard } from './overview.js';
import { prometheusYaml } from './prometheus-config.js';
import { zapVsPromoteDashboard } from './zap-vs-promote.js';

/** Every generated file, by path relative to the repository root. */
export function generatedFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of [overviewDashboard(), zapVsPromoteDashboard()]) out[`dashboards/generated/${d.uid}.json`] = `${JSON.stringify(d, null, 2)}\n`;
  out['deploy/prometheus/prometheus.yml'] = prometheusYaml({ kind: 'compose' });
  return out;
}

/** `npm run dashboards`: regenerate the dashboards' JSON and the Prometheus configuration. */
export function writeGenerated(root: string): string[] {
  const files = generatedFiles();
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return Object.keys(files);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const f of writeGenerated(root)) process.stdout.write(`wrote ${f}\n`);
}
