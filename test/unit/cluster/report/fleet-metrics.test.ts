import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { SimulationMetrics } from '../../../../shared/src/cluster/observability/simulation-metrics.js';
import { hostCpuLedger, LEDGER_KEYS } from '../../../../shared/src/cluster/report/host-cpu-ledger.js';
import { DEFAULT_PROFILE } from '../../../../shared/src/kernel/mmu/default-profile.js';
import { migrationJobSchema } from '../../../../shared/src/migration/job/migration-job.js';
import { runMigrationJob } from '../../../../shared/src/migration/job/run-migration-job.js';

describe('the fabric and host CPU metrics', () => {
  const vm = { ram_bytes: 4 * 2 ** 30, vcpus: 4, workload: { kind: 'hotcold' as const, dirty_rate_bytes_per_s: 20 * 2 ** 20 } };
  const r = runMigrationJob(migrationJobSchema.parse({ vm, migration: { link_bandwidth_bytes_per_s: 1.25e9 } }), DEFAULT_PROFILE);
  const job: JobRecord = { id: 'j', serial: 0, purpose: 'maintenance', wave: 0, vm: 0, src: 0, dst: 1, attempt: 1, srcRack: 0, dstRack: 0, startS: 5, endS: 5 + r.total_time_s, result: r };

  it('exports flows, link utilisation by tier and contention by strategy from the start, at zero', async () => {
    const registry = new Registry();
    new SimulationMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain('migsim_flows_active 0');
    for (const tier of ['nic', 'uplink', 'spine']) expect(text).toContain(`migsim_link_utilisation{tier="${tier}"} 0`);
    for (const s of LEDGER_KEYS) expect(text).toContain(`migsim_host_cpu_contention_seconds_total{strategy="${s}"} 0`);
  });

  it('sets the fabric gauges, adds the ledger’s contention, and observes each migration’s transfer and dirty rates', async () => {
    const registry = new Registry();
    const m = new SimulationMetrics(registry);
    m.setNetwork(3, { nic: 0.5, spine: 0.25 });
    m.setNetwork(2, { uplink: 0.1 });
    m.record(job, 'std');
    // Host 0 full: everything on it is contention.
    const ledger = hostCpuLedger({ hosts: [{ cores: 4 }, { cores: 64 }], vms: [{ vcpus: 4, utilisation: 1 }], placement: [0], jobs: [job], endS: job.endS });
    m.recordHostCpuLedger(ledger);
    const values = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    expect((await values('migsim_flows_active'))[0]!.value).toBe(2);
    const util = await values('migsim_link_utilisation');
    expect(Object.fromEntries(util.map((v) => [v.labels.tier, v.value]))).toEqual({ nic: 0.5, uplink: 0.1, spine: 0.25 });
    const cont = await values('migsim_host_cpu_contention_seconds_total');
    for (const s of LEDGER_KEYS) expect(cont.find((v) => v.labels.strategy === s)!.value).toBeCloseTo(ledger.contention_s[s], 9);
    expect(ledger.contention_s.in_effect).toBeGreaterThan(0);
    const rate = (await values('migsim_migration_memory_transfer_rate_bytes')) as { metricName?: string; value: number }[];
    expect(rate.find((v) => v.metricName === 'migsim_migration_memory_transfer_rate_bytes_sum')!.value).toBeCloseTo(r.ram.transferred_bytes / r.total_time_s, 3);
    const dirty = (await values('migsim_migration_dirty_memory_rate_bytes')) as { metricName?: string; value: number }[];
    expect(dirty.find((v) => v.metricName === 'migsim_migration_dirty_memory_rate_bytes_count')!.value).toBe(1);
  });
});
