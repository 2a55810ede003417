import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coordinatorEnvSchema } from '../../../shared/src/cluster/coordinator/coordinator-env.js';
import { loadgenEnvSchema } from '../../../shared/src/cluster/loadgen/loadgen-env.js';
import { workerEnvSchema } from '../../../shared/src/cluster/worker/worker-env.js';
import { RELEASE_CHANGES } from '../../../shared/src/kernel/host/release-changes.js';
import { migsim } from '../../helpers/cluster.js';

describe('the docs say what the code does', () => {
  it('docs/model.md holds the cost table `migsim profile --markdown` prints', () => {
    const table = migsim(['profile', '--markdown']).stdout.trim();
    expect(table.split('\n').length).toBeGreaterThan(20);
    expect(readFileSync('docs/model.md', 'utf8')).toContain(table);
  });

  it('docs/model.md cites every commit a release-keyed behaviour changed with (release-changes.ts)', () => {
    const model = readFileSync('docs/model.md', 'utf8');
    const commits = Object.values(RELEASE_CHANGES)
      .flat()
      .flatMap((c) => (c.commit ? [...c.commit.matchAll(/\b[0-9a-f]{12}\b/g)].map((m) => m[0]) : []));
    expect(commits.length).toBeGreaterThan(8);
    for (const commit of new Set(commits)) expect(model, commit).toContain(commit);
  });

  it('docs/operations.md documents every variable each service reads', () => {
    const ops = readFileSync('docs/operations.md', 'utf8');
    const names = [...Object.keys(workerEnvSchema.shape), ...Object.keys(coordinatorEnvSchema.shape), ...Object.keys(loadgenEnvSchema.shape)];
    for (const name of new Set(names)) expect(ops, name).toContain(`\`${name}\``);
  });

  it('the README stays short and points at every page of docs/', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
    for (const page of ['guide', 'model', 'architecture', 'operations', 'benchmarks']) expect(readme).toContain(`docs/${page}.md`);
  });
});
