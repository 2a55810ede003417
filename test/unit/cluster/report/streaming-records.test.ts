import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../../../shared/src/cluster/experiment/run-experiment.js';
import { buildFleet } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { EmbeddedTransport } from '../../../../shared/src/cluster/fleet/embedded-transport.js';
import type { JobRecord } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { FleetSimulation } from '../../../../shared/src/cluster/fleet/fleet-simulation.js';
import type { JobTransport } from '../../../../shared/src/cluster/fleet/job-transport.js';
import { hostCpuLedger, ledgerInputOf } from '../../../../shared/src/cluster/report/host-cpu-ledger.js';
import { jobsCsv, percentiles, QUANTILE_RELATIVE_ACCURACY, QuantileSketch, RunDigest, runDigest, summarize, SummaryAccumulator, type Percentiles } from '../../../../shared/src/cluster/report/run-summary.js';
import { Rng } from '../../../../shared/src/engine/rng.js';
import { scenarioWith } from '../fleet/fleet-fixtures.js';
import { ShufflingTransport } from '../fleet/shuffling-transport.js';

/** A small fleet with maintenance, probes, cancellations and a host failure: every kind of record. */
const SCENARIO = scenarioWith({
  seed: 11,
  horizon: '6h',
  cluster: { host_classes: [{ name: 'std', count: 6, cores: 8, memory: '24GiB', nic: '10Gbit/s' }], network: { hosts_per_rack: 3, tor_uplink: '2:1' } },
  vms: {
    per_host: 3,
    ram: { choices: ['2GiB', '4GiB'] },
    vcpus: { choices: [2, 4] },
    workloads: [{ workload: { kind: 'hotcold', dirty_rate: '40MiB/s' } }, { workload: { kind: 'idle' } }],
  },
  migration: { max_bandwidth: '1Gbit/s', timeout: '2m', max_attempts: 2 },
  policies: { maintenance: { wave_size: 2, upgrade_time: '5m' }, probes: { every: '20m', vms_per_round: 3 } },
  events: { cancellation_probability: 0.2, host_failures: [{ host: 3, at: '1m' }] },
});


async function sinkOrder(transport: JobTransport): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  const sim = new FleetSimulation(SCENARIO, buildFleet(SCENARIO), 'r', transport, undefined, undefined, (r) => out.push(r));
  const run = await sim.run();
  expect(run.jobs).toEqual([]);
  return out;
}

function withinAccuracy(approx: Percentiles, exact: Percentiles): void {
  expect(approx.count).toBe(exact.count);
  expect(approx.max).toBe(exact.max);
  for (const k of ['p50', 'p90', 'p99'] as const) {
    if (exact[k] === null) expect(approx[k]).toBeNull();
    else expect(Math.abs(approx[k]! - exact[k]!)).toBeLessThanOrEqual(QUANTILE_RELATIVE_ACCURACY * Math.abs(exact[k]!) + 1e-12);
  }
}

describe('streamed records', () => {
  it('the sink gets every record once, in completion order, the same whatever order the results arrive in', async () => {
    const embedded = await sinkOrder(new EmbeddedTransport());
    expect(embedded.length).toBeGreaterThan(20);
    expect(new Set(embedded.map((r) => r.id)).size).toBe(embedded.length);
    for (let i = 1; i < embedded.length; i++) expect(embedded[i]!.endS).toBeGreaterThanOrEqual(embedded[i - 1]!.endS);
    for (const seed of [1, 2, 3]) expect((await sinkOrder(new ShufflingTransport(Rng.fromSeed(seed)))).map((r) => r.id)).toEqual(embedded.map((r) => r.id));
    // The same records as a run without a sink returns (by serial).
    const all = (await new FleetSimulation(SCENARIO, buildFleet(SCENARIO), 'r', new EmbeddedTransport()).run()).jobs;
    expect([...embedded].sort((a, b) => a.serial - b.serial)).toEqual(all);
  });

  it('the accumulator gives summarize’s summary: totals exactly, percentiles within the sketch’s accuracy', async () => {
    // Summed in the same order (completion order, as the sink gets them) the totals are equal to the last bit.
    const inOrder: JobRecord[] = [];
    const { summary, run, ledger } = await runExperiment({ scenario: SCENARIO, transport: new EmbeddedTransport(), runId: 'r', onJobDone: (j) => inOrder.push(j) });
    const fleet = buildFleet(SCENARIO);
    const exact = summarize(SCENARIO.name, SCENARIO.seed, 'r', { ...run, jobs: inOrder }, summary.wall_s, hostCpuLedger(ledgerInputOf(SCENARIO, fleet, inOrder, run.endS)));
    const { migration_time_s: t, downtime_s: d, host_cpu_ledger: l, ...rest } = summary;
    const { migration_time_s: te, downtime_s: de, host_cpu_ledger: le, ...restExact } = exact;
    expect(rest).toEqual(restExact);
    withinAccuracy(t, te);
    withinAccuracy(d, de);
    // The ledger fed record by record equals the ledger of the list.
    expect(l).toEqual(le);
    expect(ledger.bins).toBeGreaterThan(0);
  });

  it('jobs.csv streamed: jobsCsv’s header and rows, rows in completion order; jobs.ndjson one record a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migsim-stream-'));
    const { run, summary } = await runExperiment({ scenario: SCENARIO, transport: new EmbeddedTransport(), runId: 'r', outDir: dir, keepRecords: true });
    const streamed = readFileSync(join(dir, 'jobs.csv'), 'utf8').trimEnd().split('\n');
    const listed = jobsCsv(run.jobs).trimEnd().split('\n');
    expect(streamed[0]).toBe(listed[0]);
    expect(streamed.length).toBe(listed.length);
    expect([...streamed.slice(1)].sort()).toEqual([...listed.slice(1)].sort());
    const endCol = listed[0]!.split(',').indexOf('end_s');
    const ends = streamed.slice(1).map((r) => Number(r.split(',')[endCol]));
    for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThanOrEqual(ends[i - 1]!);
    const nd = readFileSync(join(dir, 'jobs.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as JobRecord);
    expect(nd.length).toBe(summary.jobs);
    expect(runDigest(nd)).toBe(summary.digest);
  });

  it('property: the digest depends on the records, not their order', () => {
    const records = Array.from({ length: 12 }, (_, i) => ({ id: `j${i}`, serial: i, purpose: 'maintenance', wave: 0, vm: i, src: 0, dst: 1, attempt: 1, srcRack: 0, dstRack: 0, startS: i, endS: i + 1, result: { x: i } }) as unknown as JobRecord);
    const d = runDigest(records);
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), (keys) => {
        const shuffled = records.map((r, i) => ({ r, k: keys[i]! })).sort((a, b) => a.k - b.k).map((x) => x.r);
        expect(runDigest(shuffled)).toBe(d);
      }),
    );
    expect(runDigest(records.slice(1))).not.toBe(d);
    const g = new RunDigest();
    expect(g.finish()).toBe(runDigest([]));
  });

  it('property: sketch percentiles are within the relative accuracy of exact sorting, merged or serialised', () => {
    const value = fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.constant(0));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), fc.array(value, { maxLength: 400 }), (a, b) => {
        const sa = new QuantileSketch();
        for (const x of a) sa.add(x);
        withinAccuracy(sa.percentiles(), percentiles(a));
        const sb = new QuantileSketch();
        for (const x of b) sb.add(x);
        const merged = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(sa.toJSON())));
        merged.merge(QuantileSketch.fromJSON(sb.toJSON()));
        withinAccuracy(merged.percentiles(), percentiles([...a, ...b]));
      }),
      { numRuns: 200 },
    );
    expect(new QuantileSketch().percentiles()).toEqual(percentiles([]));
  });

  it('accumulators merge: two halves give the whole’s totals', async () => {
    const { run } = await runExperiment({ scenario: SCENARIO, transport: new EmbeddedTransport(), runId: 'r', keepRecords: true });
    const whole = new SummaryAccumulator();
    const a = new SummaryAccumulator();
    const b = new SummaryAccumulator();
    run.jobs.forEach((j, i) => {
      whole.add(j);
      (i % 2 === 0 ? a : b).add(j);
    });
    a.merge(SummaryAccumulator.fromSummary(b.finish({ scenario: 's', seed: 1, runId: 'r', run, wallS: 0 }), { migration_time_s: b.times.toJSON(), downtime_s: b.downtimes.toJSON() }));
    const ctx = { scenario: 's', seed: 1, runId: 'r', run, wallS: 0 };
    const { migration_time_s: t1, downtime_s: d1, digest: _1, whole_cost: w1, ...r1 } = a.finish(ctx, 'x');
    const { migration_time_s: t2, downtime_s: d2, digest: _2, whole_cost: w2, ...r2 } = whole.finish(ctx, 'x');
    expect(r1.migrations).toEqual(r2.migrations);
    expect(r1.jobs).toBe(r2.jobs);
    expect(r1.strategies.zap.disable_s).toBeCloseTo(r2.strategies.zap.disable_s, 9);
    expect(w1.in_effect.host_cpu_total_s).toBeCloseTo(w2.in_effect.host_cpu_total_s, 9);
    expect(t1.count).toBe(t2.count);
    expect(t1.max).toBe(t2.max);
    expect(d1.count).toBe(d2.count);
  });
});
