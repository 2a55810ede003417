import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../../../shared/src/engine/environment.js';
import type { MigrationResult } from '../../../../shared/src/migration/job/migration-result.js';
import { FleetInvariantViolation } from '../../../../shared/src/cluster/fleet/errors/index.js';
import { ResultGate, type GatedJob } from '../../../../shared/src/cluster/fleet/result-gate.js';
import { resultWith } from './fleet-fixtures.js';

function job(serial: number, startS: number, lowerBoundS: number): GatedJob {
  return { id: `job-${serial}`, serial, startS, lowerBoundS };
}

const lasting = (s: number): MigrationResult => resultWith({ total_time_s: s });

/** A gate on a fresh clock that logs each applied result as `<id>@<time>`. */
function gateWithLog(): { env: Environment; gate: ResultGate<GatedJob>; log: string[] } {
  const env = new Environment();
  const log: string[] = [];
  const gate = new ResultGate<GatedJob>(env, (j) => log.push(`${j.id}@${env.now}`));
  return { env, gate, log };
}

describe('ResultGate', () => {
  it('blocks from a job lower bound on until its result is taken', () => {
    const { gate } = gateWithLog();
    expect(gate.blockedBefore(Infinity)).toBe(false);
    gate.admit(job(0, 0, 10));
    expect(gate.blockedBefore(9.99)).toBe(false);
    expect(gate.blockedBefore(10)).toBe(true);
    expect(gate.blockedBefore(Infinity)).toBe(true);
    gate.take([{ id: 'job-0', result: lasting(12) }]);
    expect(gate.blockedBefore(Infinity)).toBe(false);
  });

  it('blocks on the earliest lower bound among the jobs without a result', () => {
    const { gate } = gateWithLog();
    gate.admit(job(0, 0, 30));
    expect(gate.blockedBefore(20)).toBe(false);
    gate.admit(job(1, 0, 20));
    expect(gate.blockedBefore(20)).toBe(true);
    gate.take([{ id: 'job-1', result: lasting(25) }]);
    expect(gate.blockedBefore(29)).toBe(false);
    expect(gate.blockedBefore(30)).toBe(true);
  });

  it('answers as a check of every unresolved job would, over any sequence of admissions and results', () => {
    type Op = { kind: 'admit'; bound: number } | { kind: 'take'; which: number } | { kind: 'ask'; t: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), bound: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('take' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('ask' as const), t: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(Infinity)) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200, size: 'max' }), (ops) => {
        const { gate } = gateWithLog();
        const unresolved: GatedJob[] = [];
        let serial = 0;
        for (const op of ops) {
          if (op.kind === 'admit') {
            const j = job(serial++, 0, op.bound);
            gate.admit(j);
            unresolved.push(j);
          } else if (op.kind === 'take') {
            if (unresolved.length === 0) continue;
            const [j] = unresolved.splice(op.which % unresolved.length, 1);
            gate.take([{ id: j!.id, result: lasting(j!.lowerBoundS) }]);
          } else {
            expect(gate.blockedBefore(op.t)).toBe(unresolved.some((j) => j.lowerBoundS <= op.t));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('applies each result at its start plus its duration, after other events then, same-time results by serial', () => {
    const { env, gate, log } = gateWithLog();
    for (const serial of [2, 0, 1]) gate.admit(job(serial, 0, 1));
    gate.take([
      { id: 'job-2', result: lasting(5) },
      { id: 'job-0', result: lasting(5) },
      { id: 'job-1', result: lasting(3) },
    ]);
    env.callAt(5, () => log.push(`event@${env.now}`));
    expect(gate.size).toBe(3);
    env.run();
    expect(log).toEqual(['job-1@3', 'event@5', 'job-0@5', 'job-2@5']);
    expect(gate.size).toBe(0);
  });

  it('keeps a job in flight until its result has been applied', () => {
    const { env, gate } = gateWithLog();
    gate.admit(job(0, 0, 1));
    gate.take([{ id: 'job-0', result: lasting(4) }]);
    expect(gate.size).toBe(1);
    env.run(3);
    expect(gate.size).toBe(1);
    env.run();
    expect(gate.size).toBe(0);
  });

  it('ignores results of unknown jobs and results taken before', () => {
    const { env, gate, log } = gateWithLog();
    gate.admit(job(0, 0, 1));
    gate.take([
      { id: 'job-0', result: lasting(2) },
      { id: 'job-0', result: lasting(7) },
      { id: 'stray', result: lasting(1) },
    ]);
    env.run();
    gate.take([{ id: 'job-0', result: lasting(9) }]);
    env.run();
    expect(log).toEqual(['job-0@2']);
  });

  it('throws a FleetInvariantViolation naming the job, its end, the clock and the lower bound when a result ends in the past', () => {
    const { env, gate } = gateWithLog();
    gate.admit(job(0, 0, 10));
    env.callAt(8, () => undefined);
    env.run();
    expect(env.now).toBe(8);
    let thrown: unknown;
    try {
      gate.take([{ id: 'job-0', result: lasting(6) }]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(FleetInvariantViolation);
    const message = (thrown as Error).message;
    for (const part of ['job-0', 'at 6 s', '(8 s)', '(10 s)', 'lower bound', 'wrong']) expect(message).toContain(part);
    expect((thrown as Error).name).toBe('FleetInvariantViolation');
  });

  it('accepts a result that ends exactly at the clock', () => {
    const { env, gate, log } = gateWithLog();
    gate.admit(job(0, 2, 4));
    env.callAt(6, () => undefined);
    env.run();
    gate.take([{ id: 'job-0', result: lasting(4) }]);
    env.run();
    expect(log).toEqual(['job-0@6']);
  });
});
