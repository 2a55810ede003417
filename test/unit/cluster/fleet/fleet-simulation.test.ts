import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../shared/src/engine/rng.js';
import { buildFleet } from '../../../../shared/src/cluster/fleet/build-fleet.js';
import { EmbeddedTransport } from '../../../../shared/src/cluster/fleet/embedded-transport.js';
import { FleetInvariantViolation } from '../../../../shared/src/cluster/fleet/errors/index.js';
import type { FleetRunResult } from '../../../../shared/src/cluster/fleet/fleet-run-result.js';
import { FleetSimulation } from '../../../../shared/src/cluster/fleet/fleet-simulation.js';
import type { JobOutcome, JobTransport } from '../../../../shared/src/cluster/fleet/job-transport.js';
import type { Progress } from '../../../../shared/src/cluster/fleet/progress.js';
import type { Scenario } from '../../../../shared/src/cluster/scenario/scenario-schema.js';
import { scenarioWith } from './fleet-fixtures.js';
import { ShufflingTransport } from './shuffling-transport.js';

/** A small fleet with every policy and event: maintenance, probes, rebalancing, cancellations, a host failure. */
const SCENARIO = scenarioWith({
  seed: 5,
  horizon: '6h',
  cluster: { host_classes: [{ name: 'std', count: 6, cores: 8, memory: '24GiB', nic: '10Gbit/s' }] },
  vms: {
    per_host: 3,
    ram: { choices: ['2GiB', '4GiB'] },
    vcpus: { choices: [2, 4] },
    workloads: [{ workload: { kind: 'hotcold', dirty_rate: '40MiB/s' } }, { workload: { kind: 'idle' } }],
  },
  migration: { max_bandwidth: '1Gbit/s', timeout: '2m', max_attempts: 2 },
  policies: {
    maintenance: { wave_size: 2, upgrade_time: '5m' },
    probes: { every: '20m', vms_per_round: 3 },
    rebalance: { every: '30m', probes_per_round: 2, threshold: 0.05 },
  },
  events: { cancellation_probability: 0.2, host_failures: [{ host: 3, at: '1m' }] },
});


/** The embedded transport's results, each claiming to take no time at all. */
class InstantTransport extends EmbeddedTransport {
  override async nextResults(): Promise<JobOutcome[]> {
    return (await super.nextResults()).map((o) => ({ id: o.id, result: { ...o.result, total_time_s: 0 } }));
  }
}

async function runWith(s: Scenario, transport: JobTransport): Promise<{ run: FleetRunResult; progress: Progress[] }> {
  const progress: Progress[] = [];
  const run = await new FleetSimulation(s, buildFleet(s), 'run-test', transport, (p) => progress.push(p)).run();
  return { run, progress };
}

describe('FleetSimulation', () => {
  it('runs every policy of the scenario', async () => {
    const { run, progress } = await runWith(SCENARIO, new EmbeddedTransport());
    const purposes = new Set(run.jobs.map((j) => j.purpose));
    expect([...purposes].sort()).toEqual(['maintenance', 'probe', 'rebalance']);
    expect(run.waves.map((w) => w.hosts)).toEqual([[0, 1], [2], [4, 5]]);
    expect(run.waves.every((w) => w.endS !== null)).toBe(true);
    expect(run.makespanS).toBe(run.waves[2]!.endS);
    expect(run.jobs.map((j) => j.serial)).toEqual([...run.jobs.keys()]);
    expect(run.jobs.some((j) => j.result.status === 'cancelled')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ wavesDone: 3, wavesTotal: 3, jobsDone: run.jobs.length });
  });

  it('gives the same run whatever order and batches results arrive in', async () => {
    const reference = await runWith(SCENARIO, new EmbeddedTransport());
    for (const seed of [1, 2, 3]) {
      const shuffled = await runWith(SCENARIO, new ShufflingTransport(Rng.fromSeed(seed)));
      expect(shuffled.run).toEqual(reference.run);
      expect(shuffled.progress).toEqual(reference.progress);
    }
  });

  it('stops with a FleetInvariantViolation when a result ends before the clock', async () => {
    const s = scenarioWith({
      vms: { per_host: 1, ram: '1GiB', vcpus: 1, workloads: [{ workload: { kind: 'idle' } }] },
      policies: { maintenance: { wave_size: 1 }, probes: { every: '500ms', vms_per_round: 1 } },
    });
    await expect(runWith(s, new InstantTransport())).rejects.toThrow(FleetInvariantViolation);
  });
});
