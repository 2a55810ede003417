import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { migrationJobSchema } from '../../../shared/src/migration/job/migration-job.js';
import { runSimgridMigration } from '../../../shared/src/migration/simgrid/simgrid-model.js';

/**
 * Migration durations measured with SimGrid 3.32's live-migration plugin for one VM between two hosts (CM02
 * network model, 100 Gbit/s NICs so the per-migration cap governs), from ../shared/peers/simgrid/single-vm.tsv.
 */
const rows = readFileSync(new URL('../../fixtures/simgrid-single-vm.tsv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t').map(Number) as [number, number, number, number]);

describe('--model simgrid reproduces SimGrid 3.32 on one VM', () => {
  for (const [ramMiB, bwMiBps, intensity, simgridS] of rows) {
    it(`${ramMiB} MiB at ${bwMiBps} MiB/s, dirty intensity ${intensity} %: ${simgridS} s`, () => {
      const job = migrationJobSchema.parse({
        model: 'simgrid',
        vm: {
          ram_bytes: ramMiB * 2 ** 20,
          vcpus: 1,
          workload: { kind: 'uniform', dirty_rate_bytes_per_s: (intensity / 100) * bwMiBps * 2 ** 20 },
        },
        migration: { max_bandwidth_bytes_per_s: bwMiBps * 2 ** 20 },
      });
      const r = runSimgridMigration(job);
      expect(r.status).toBe('completed');
      expect(Math.abs(r.total_time_s / simgridS - 1)).toBeLessThan(0.02);
    });
  }
});
