import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf, migsim } from '../helpers/cluster.js';

describe('migsim run (embedded) and validate', () => {
  it('runs the bundled quick scenario by default and writes summary.json, jobs.csv and report.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-run-'));
    const r = migsim(['run', '--out', dir]);
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.scenario).toBe('quick');
    for (const k of ['completed', 'cancelled', 'failed', 'active', 'total']) expect(typeof summary.migrations[k]).toBe('number');
    for (const s of ['rmap-zap', 'zap-leaf', 'zap', 'zap-batched', 'promote']) {
      for (const k of ['disable_s', 'vcpu_stall_s', 'tlb_flushes', 'page_faults', 'host_cpu_s']) expect(typeof summary.strategies[s][k]).toBe('number');
    }
    expect(typeof summary.makespan_s).toBe('number');
    expect(typeof summary.wall_s).toBe('number');
    expect(summary.digest).toBe(digestOf(r.stdout));
    const csv = readFileSync(join(dir, 'jobs.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(summary.jobs + 1);
    expect(csv[0]).toContain('promote_host_cpu_s');
    expect(csv[0]).toContain('rmap-zap_host_cpu_s');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<svg');
    // Not a TTY: plain progress lines.
    expect(r.stderr).toMatch(/progress: waves/);
  });

  it('the same scenario and seed give the same digest; another seed another', () => {
    const a = digestOf(migsim(['run', 'quick', '--quiet', '--out', mkdtempSync(join(tmpdir(), 'migsim-a-'))]).stdout);
    const b = digestOf(migsim(['run', 'quick', '--quiet', '--out', mkdtempSync(join(tmpdir(), 'migsim-b-'))]).stdout);
    const c = digestOf(migsim(['run', 'quick', '--quiet', '--seed', '2', '--out', mkdtempSync(join(tmpdir(), 'migsim-c-'))]).stdout);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('validate accepts every bundled scenario', () => {
    for (const s of ['quick', 'seed-96vcpu', 'rolling-upgrade-1000', 'probe-rebalance', 'rack-drain']) {
      const r = migsim(['validate', `scenarios/${s}.yaml`]);
      expect(r.status, r.stderr).toBe(0);
    }
  });

  const base = readFileSync('scenarios/quick.yaml', 'utf8');
  for (const [name, edit, path] of [
    ['a missing field', (t: string) => t.replace(/\n\s+nic: 25Gbit\/s/, ''), 'cluster.host_classes[0].nic'],
    ['a wrong type', (t: string) => t.replace('count: 8', 'count: eight'), 'cluster.host_classes[0].count'],
    ['a negative size', (t: string) => t.replace('memory: 768GiB', 'memory: -768GiB'), 'cluster.host_classes[0].memory'],
    ['an unknown key', (t: string) => t.replace('seed: 1', 'seed: 1\ncolour: blue'), 'colour'],
    ['more VMs than hosts can hold', (t: string) => t.replace('per_host: 6', 'per_host: 60'), 'vms'],
    ['a bad unit', (t: string) => t.replace('downtime_limit: 300ms', 'downtime_limit: 300 furlongs'), 'migration.downtime_limit'],
    ['a failure of a host that does not exist', (t: string) => t.replace('host: 7, at: 40m', 'host: 70, at: 40m'), 'events.host_failures.0.host'],
    // Values the jobs would reject (the workers validate every job) or that never end.
    ['a policy period of zero', (t: string) => t.replace('every: 30m', 'every: 0s'), 'policies.probes.every'],
    ['a bandwidth of zero', (t: string) => t.replace('max_bandwidth: 10Gbit/s', 'max_bandwidth: 0'), 'migration.max_bandwidth'],
    ['a NIC of zero', (t: string) => t.replace('nic: 25Gbit/s', 'nic: 0Gbit/s'), 'cluster.host_classes[0].nic'],
    ['a downtime limit above what a job takes', (t: string) => t.replace('downtime_limit: 300ms', 'downtime_limit: 3000s'), 'migration.downtime_limit'],
    // Kernel settings no kernel has (resolveKvmHost's issues, at the field's path).
    ['a release migsim does not model', (t: string) => t.replace("release: '6.12'", "release: '4.19'"), 'cluster.host_classes[0].kernel.release'],
    ['the shadow MMU\'s disable on a TDP MMU host', (t: string) => t.replace('strategy: zap-batched', 'strategy: rmap-zap'), 'cluster.host_classes[0].kernel.strategy'],
    ['eager page splitting before 5.18', (t: string) => t.replace("release: '6.12'", "release: '5.15', eager_page_split: true"), 'cluster.host_classes[0].kernel.eager_page_split'],
    // The network fabric and the operator presets.
    ['racks that do not divide the hosts', (t: string) => t.replace("strategy: zap-batched }\n", "strategy: zap-batched }\n  network: { hosts_per_rack: 3 }\n"), 'cluster.network.hosts_per_rack'],
    ['a top-of-rack uplink of zero', (t: string) => t.replace("strategy: zap-batched }\n", "strategy: zap-batched }\n  network: { hosts_per_rack: 4, tor_uplink: 0Gbit/s }\n"), 'cluster.network.tor_uplink'],
    ['an oversubscription ratio below 1:1', (t: string) => t.replace("strategy: zap-batched }\n", "strategy: zap-batched }\n  network: { hosts_per_rack: 4, tor_uplink: '1:2' }\n"), 'cluster.network.tor_uplink'],
    ['a preset with an impossible override (a post-copy timeout under KubeVirt)', (t: string) => t.replace('timeout: 20m', 'timeout: 20m\n  timeout_action: postcopy').replace('policies:\n', 'policies:\n  preset: kubevirt\n'), 'migration.timeout_action'],
    ['a preset with no room for migrations', (t: string) => t.replace('policies:\n', 'policies:\n  preset: nova\n').replace('max_outbound: 1', 'max_outbound: 0'), 'policies.maintenance.max_outbound'],
    ['a memstress pass time of zero', (t: string) => t.replace('workload: { kind: idle }', 'workload: { kind: memstress, pass_time: 0s }'), 'vms.workloads[2].workload.pass_time'],
  ] as const) {
    it(`rejects ${name}, naming ${path} and its line (exit 2)`, () => {
      const f = join(mkdtempSync(join(tmpdir(), 'migsim-bad-')), 'bad.yaml');
      writeFileSync(f, edit(base));
      for (const cmd of [['validate', f], ['run', f, '--quiet']]) {
        const r = migsim(cmd);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(path);
        expect(r.stderr).toMatch(new RegExp(`${f.replace(/[/.]/g, '\\$&')}:\\d+:\\d+`));
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    });
  }
});

describe('migsim run of a region', () => {
  it('runs scenarios/region-small.yaml: a folder per cluster, region-summary.json, clusters.csv, report.html, progress over the region', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-region-cli-'));
    const r = migsim(['run', 'scenarios/region-small.yaml', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'region-summary.json'), 'utf8'));
    expect(s.clusters.map((c: { name: string }) => c.name)).toEqual(['c0', 'c1', 'c2', 'big']);
    expect(s.digest).toBe(digestOf(r.stdout));
    expect(s.totals.migrations.total).toBeGreaterThan(0);
    for (const c of s.clusters) {
      const csv = readFileSync(join(dir, c.name, 'jobs.csv'), 'utf8').trim().split('\n');
      expect(csv.length).toBe(c.jobs + 1);
      expect(JSON.parse(readFileSync(join(dir, c.name, 'summary.json'), 'utf8')).digest).toBe(c.digest);
    }
    // The big cluster has twice the hosts.
    const big = s.clusters.find((c: { name: string }) => c.name === 'big');
    expect(big.migrations.total).toBeGreaterThan(s.clusters[0].migrations.total * 1.5);
    expect(readFileSync(join(dir, 'clusters.csv'), 'utf8')).toContain('big/jobs.csv');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<svg');
    expect(r.stderr).toMatch(/region: clusters 4\/4, .*ETA/);
    // Again: the same region digest.
    expect(digestOf(migsim(['run', 'scenarios/region-small.yaml', '--quiet', '--out', mkdtempSync(join(tmpdir(), 'migsim-region-cli2-'))]).stdout)).toBe(s.digest);
  });

  it('validate reports a cluster’s bad value at its line; a region with an unreachable --redis is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-region-bad-'));
    const file = join(dir, 'bad.yaml');
    const text = readFileSync('scenarios/region-small.yaml', 'utf8').replace('policies.maintenance.wave_size: 10', 'policies.maintenance.wave_size: zero');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('wave_size: zero')) + 1;
    const v = migsim(['validate', file]);
    expect(v.status).toBe(2);
    expect(v.stderr).toContain(`bad.yaml:${line}:`);
    expect(v.stderr).toContain('region.clusters[3].set.policies.maintenance.wave_size: cluster big: policies.maintenance.wave_size:');
    const r = migsim(['run', 'scenarios/region-small.yaml', '--redis', 'redis://127.0.0.1:1', '--out', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^migsim: --redis: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
