import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { regionReportHtml } from './region-report.js';
import { clustersCsv, type RegionSummary } from './region-summary.js';

/** Writes a region's own outputs into `outDir`: `region-summary.json`, `clusters.csv` and `report.html`. */
export function writeRegionOutputs(outDir: string, summary: RegionSummary): void {
  writeFileSync(join(outDir, 'region-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(outDir, 'clusters.csv'), clustersCsv(summary));
  writeFileSync(join(outDir, 'report.html'), regionReportHtml(summary));
}
