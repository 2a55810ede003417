import { describe, expect, it } from 'vitest';
import type { FleetRunResult, JobRecord, NetworkUsage, WaveRecord } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { hostCpuLedger } from '../../../../shared/src/cluster/report/host-cpu-ledger.js';
import { reportHtml } from '../../../../shared/src/cluster/report/report-html.js';
import { jobsCsv, networkSummary, runDigest, summarize } from '../../../../shared/src/cluster/report/run-summary.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../../../shared/src/migration/job/run-migration-job.js';

const GiB = 2 ** 30;

/** Two migrations of wave 0 off hosts 0 (rack 0) and 2 (rack 1), 2 hosts per rack, and a probe. */
function records(): JobRecord[] {
  const vm = { ram_bytes: 4 * GiB, vcpus: 4, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 20 * 2 ** 20 } };
  const mig = runMigrationJob(migrationJobSchema.parse({ vm, migration: { link_bandwidth_bytes_per_s: 1.25e9 } }), DEFAULT_PROFILE);
  const probe = runMigrationJob(migrationJobSchema.parse({ kind: 'dirty-rate-probe', vm, probe: { mode: 'dirty-bitmap' } }), DEFAULT_PROFILE);
  return [
    { id: 'r.j0', serial: 0, purpose: 'maintenance', wave: 0, vm: 0, src: 0, dst: 3, attempt: 1, srcRack: 0, dstRack: 1, startS: 10, endS: 10 + mig.total_time_s, result: mig },
    { id: 'r.j1', serial: 1, purpose: 'maintenance', wave: 0, vm: 1, src: 2, dst: 1, attempt: 1, srcRack: 1, dstRack: 0, startS: 50, endS: 50 + mig.total_time_s, result: mig },
    { id: 'r.j2', serial: 2, purpose: 'probe', wave: null, vm: 2, src: 1, dst: null, attempt: 1, srcRack: 0, dstRack: null, startS: 0, endS: probe.total_time_s, result: probe },
  ];
}

/** Synthetic link utilisation (the fabric's producer fills this in real runs). */
function network(bins: number): NetworkUsage {
  const ramp = (peak: number) => Array.from({ length: bins }, (_, i) => (peak * (i + 1)) / bins);
  return {
    binS: 10,
    racks: 2,
    hostsPerRack: 2,
    tiers: [
      { tier: 'nic', links: 8, capacityBytesPerS: 1.25e9, meanUtil: ramp(0.4), maxUtil: ramp(0.9) },
      { tier: 'uplink', links: 4, capacityBytesPerS: 5e9, meanUtil: ramp(0.2), maxUtil: ramp(0.3) },
      { tier: 'spine', links: 1, capacityBytesPerS: 2e10, meanUtil: ramp(0.1), maxUtil: ramp(0.1) },
    ],
  };
}

describe('the fabric and the host CPU ledger in summary.json, jobs.csv and report.html', () => {
  const jobs = records();
  const endS = Math.max(...jobs.map((j) => j.endS));
  const waves: WaveRecord[] = [{ wave: 0, hosts: [0, 2], startS: 10, endS, migrations: 2, stuckVms: 0 }];
  const net = network(12);
  const run: FleetRunResult = { jobs, waves, makespanS: endS, endS, network: net };
  // Host 0: 8 cores with 7 busy; the others idle.
  const vms = [{ vcpus: 4, utilisation: 1 }, { vcpus: 4, utilisation: 0.5 }, { vcpus: 4, utilisation: 0.5 }, { vcpus: 3, utilisation: 1 }];
  const ledger = hostCpuLedger({ hosts: [{ cores: 8 }, { cores: 8 }, { cores: 8 }, { cores: 8 }], vms, placement: [0, 2, 1, 0], jobs, endS });

  it('summary.json carries the ledger’s totals and per-tier peak and mean utilisation', () => {
    const s = summarize('fixture', 1, 'r', run, 0, ledger);
    expect(s.host_cpu_ledger).not.toBeNull();
    expect(s.host_cpu_ledger).not.toHaveProperty('series');
    expect(s.host_cpu_ledger!.contention_s.in_effect).toBe(ledger.contention_s.in_effect);
    expect(s.host_cpu_ledger!.migration_cpu_s.in_effect.source_s).toBeCloseTo(s.whole_cost.in_effect.host_cpu_total_s, 9);
    expect(s.network!.tiers.map((t) => t.tier)).toEqual(['nic', 'uplink', 'spine']);
    const nic = s.network!.tiers[0]!;
    expect(nic.peak_util).toBeCloseTo(0.9, 12);
    expect(nic.peak_mean_util).toBeCloseTo(0.4, 12);
    // Mean of 0.4 × i / 12 for i = 1..12.
    expect(nic.mean_util).toBeCloseTo((0.4 * 13) / 24, 12);
    expect(networkSummary(net)).toEqual(s.network);
    // Without a ledger or a network: nulls; the digest does not change.
    const bare = summarize('fixture', 1, 'r', { ...run, network: null }, 0);
    expect(bare.host_cpu_ledger).toBeNull();
    expect(bare.network).toBeNull();
    expect(bare.digest).toBe(s.digest);
    expect(s.digest).toBe(runDigest(jobs));
  });

  it('jobs.csv appends src_rack, dst_rack and mean_rate_bytes_per_s after the existing columns', () => {
    const [header, ...rows] = jobsCsv(jobs).trim().split('\n');
    const cols = header!.split(',');
    expect(cols.slice(0, 3)).toEqual(['id', 'purpose', 'wave']);
    expect(cols.slice(-3)).toEqual(['src_rack', 'dst_rack', 'mean_rate_bytes_per_s']);
    expect(cols.indexOf('promote_whole_guest_impact_s')).toBe(cols.length - 4);
    const cell = (row: number, col: string) => rows[row]!.split(',')[cols.indexOf(col)]!;
    expect(cell(0, 'src_rack')).toBe('0');
    expect(cell(0, 'dst_rack')).toBe('1');
    expect(Number(cell(0, 'mean_rate_bytes_per_s'))).toBeCloseTo(jobs[0]!.result.ram.transferred_bytes / (jobs[0]!.endS - jobs[0]!.startS), 6);
    expect(cell(2, 'dst_rack')).toBe('');
    for (const r of rows) expect(r.split(',')).toHaveLength(cols.length);
  });

  it('report.html draws link utilisation per tier, host CPU contention and the waves by rack, all inline', () => {
    const s = summarize('fixture', 1, 'r', run, 0, ledger);
    const html = reportHtml(s, jobs, 4 * 4 * GiB, { ledger, network: net, waves });
    expect(html).toContain('Link utilisation over time, per tier');
    expect(html).toContain('Host CPU migrations took from guests over time');
    expect(html).toContain('Evacuation timeline per wave, by rack of its hosts');
    expect(html).toContain('>w0 rack 0<');
    expect(html).toContain('wave 0, rack 1 (1 hosts)');
    for (const t of ['nic mean', 'nic max', 'uplink mean', 'spine max']) expect(html).toContain(t);
    expect(html).toContain('stroke-dasharray');
    const figures = (html.match(/<figure class="chart">/g) ?? []).length;
    expect((html.match(/<svg /g) ?? []).length).toBe(figures);
    const without = reportHtml(s, jobs, 4 * 4 * GiB);
    expect((without.match(/<figure class="chart">/g) ?? []).length).toBe(figures - 3);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src="http/);
  });

  it('report.html leaves the fabric out when the run has no network usage', () => {
    const s = summarize('fixture', 1, 'r', { ...run, network: null }, 0, ledger);
    const html = reportHtml(s, jobs, 4 * 4 * GiB, { ledger, network: null, waves });
    expect(html).not.toContain('Link utilisation over time');
    expect(html).toContain('Host CPU migrations took from guests over time');
  });
});
