import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coordinatorEnvSchema } from '../../../shared/src/cluster/coordinator/coordinator-env.js';
import { loadgenEnvSchema } from '../../../shared/src/cluster/loadgen/loadgen-env.js';
import { workerEnvSchema } from '../../../shared/src/cluster/worker/worker-env.js';
import { migsim } from '../../helpers/cluster.js';

describe('the docs say what the code does', () => {
  it('docs/model.md holds the cost table `migsim profile --markdown` prints', () => {
    const table = migsim(['profile', '--markdown']).stdout.trim();
    expect(table.split('\n').length).toBeGreaterThan(20);
    expect(readFileSync('docs/model.md', 'utf8')).toContain(table);
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
