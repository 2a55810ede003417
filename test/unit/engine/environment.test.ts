import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Environment, type RunEndReason } from '../../../shared/src/engine/environment.js';
import { EmptySchedule } from '../../../shared/src/engine/errors/index.js';
import { SimEvent } from '../../../shared/src/engine/event.js';
import { NORMAL, URGENT } from '../../../shared/src/engine/priority.js';
import type { ProcessGenerator } from '../../../shared/src/engine/process.js';
import { Rng } from '../../../shared/src/engine/rng.js';

describe('Environment clock', () => {
  it('starts at 0, or at initialTime', () => {
    expect(new Environment().now).toBe(0);
    expect(new Environment({ initialTime: 12.5 }).now).toBe(12.5);
  });

  it.each([-1, NaN, Infinity])('rejects initialTime %s', (initialTime) => {
    expect(() => new Environment({ initialTime })).toThrow(RangeError);
  });

  it('processes timeouts in time order with now equal to each due time', () => {
    const env = new Environment({ initialTime: 100 });
    const seen: [number, number][] = [];
    for (const delay of [5, 0, 3.25, 1, 3.25, 8]) {
      env.timeout(delay, delay).callbacks!.push((ev) => seen.push([env.now, ev.value]));
    }
    env.run();
    expect(seen.map(([, delay]) => delay)).toEqual([0, 1, 3.25, 3.25, 5, 8]);
    for (const [now, delay] of seen) expect(now).toBe(100 + delay);
    expect(env.now).toBe(108);
  });
});

describe('Environment ordering', () => {
  it('runs URGENT before NORMAL at the same time, and FIFO within a priority', () => {
    const env = new Environment();
    const order: string[] = [];
    env.callAt(1, () => order.push('n1'));
    env.callAt(1, () => order.push('u1'), URGENT);
    env.callAt(0.5, () => order.push('early'), NORMAL);
    env.callAt(1, () => order.push('n2'));
    env.callAt(1, () => order.push('u2'), URGENT);
    env.run();
    expect(order).toEqual(['early', 'u1', 'u2', 'n1', 'n2']);
  });

  it('interleaves events and callbacks by (time, priority, seq)', () => {
    const env = new Environment();
    const order: string[] = [];
    env.timeout(2).callbacks!.push(() => order.push('timeout@2'));
    env.callIn(2, () => order.push('call@2'));
    env.callIn(1, () => {
      order.push('call@1');
      env.callIn(1, () => order.push('nested@2'));
      env.callIn(1, () => order.push('nested-urgent@2'), URGENT);
    });
    env.run();
    expect(order).toEqual(['call@1', 'nested-urgent@2', 'timeout@2', 'call@2', 'nested@2']);
  });

  it('processes any schedule in the order of a reference (time, priority, seq) queue', () => {
    type Spec = { delay: number; priority: number; children: { delay: number; priority: number }[] };
    const delayArb = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 5, noNaN: true }));
    const specArb: fc.Arbitrary<Spec> = fc.record({
      delay: delayArb,
      priority: fc.constantFrom(URGENT, NORMAL, 2),
      children: fc.array(fc.record({ delay: delayArb, priority: fc.constantFrom(URGENT, NORMAL) }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(specArb, { maxLength: 60 }), (specs) => {
        // Engine run.
        const env = new Environment();
        const got: string[] = [];
        specs.forEach((spec, i) => {
          env.callIn(
            spec.delay,
            (t) => {
              got.push(`${i}@${t}`);
              spec.children.forEach((child, j) => env.callIn(child.delay, (tc) => got.push(`${i}.${j}@${tc}`), child.priority));
            },
            spec.priority,
          );
        });
        env.run();

        // Reference: a linear scan for the smallest (time, priority, seq).
        type Entry = { time: number; priority: number; seq: number; name: string; spec?: Spec };
        const pending: Entry[] = [];
        let seq = 0;
        specs.forEach((spec, i) => pending.push({ time: spec.delay, priority: spec.priority, seq: seq++, name: `${i}`, spec }));
        const want: string[] = [];
        while (pending.length > 0) {
          let best = 0;
          for (let k = 1; k < pending.length; k++) {
            const a = pending[k]!;
            const b = pending[best]!;
            if (a.time < b.time || (a.time === b.time && (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)))) best = k;
          }
          const [entry] = pending.splice(best, 1);
          want.push(`${entry!.name}@${entry!.time}`);
          entry!.spec?.children.forEach((child, j) =>
            pending.push({ time: entry!.time + child.delay, priority: child.priority, seq: seq++, name: `${entry!.name}.${j}` }),
          );
        }
        expect(got).toEqual(want);
      }),
    );
  });
});

describe('Environment.peek and step', () => {
  it('peek gives the next due time, or Infinity', () => {
    const env = new Environment();
    expect(env.peek()).toBe(Infinity);
    env.callAt(4, () => undefined);
    env.callAt(2, () => undefined);
    expect(env.peek()).toBe(2);
    expect(env.queueSize).toBe(2);
  });

  it('step processes exactly one entry and advances the clock to it', () => {
    const env = new Environment();
    const seen: number[] = [];
    env.callAt(2, (t) => seen.push(t));
    env.callAt(4, (t) => seen.push(t));
    env.step();
    expect(seen).toEqual([2]);
    expect(env.now).toBe(2);
    expect(env.peek()).toBe(4);
    env.step();
    expect(seen).toEqual([2, 4]);
    expect(env.now).toBe(4);
  });

  it('step throws EmptySchedule when nothing is left', () => {
    const env = new Environment();
    expect(() => env.step()).toThrow(EmptySchedule);
    env.callIn(1, () => undefined);
    env.step();
    expect(() => env.step()).toThrow(EmptySchedule);
  });
});

describe('Environment.run(until)', () => {
  it('processes everything due at or before until, then sets now = until', () => {
    const env = new Environment();
    const seen: number[] = [];
    for (const t of [1, 5, 5, 7, 10, 10.5]) env.callAt(t, (now) => seen.push(now));
    env.run(5);
    expect(seen).toEqual([1, 5, 5]);
    expect(env.now).toBe(5);
    env.run(9);
    expect(seen).toEqual([1, 5, 5, 7]);
    expect(env.now).toBe(9);
    expect(env.peek()).toBe(10);
    env.run();
    expect(seen).toEqual([1, 5, 5, 7, 10, 10.5]);
    expect(env.now).toBe(10.5);
  });

  it('also processes what events at until schedule for until', () => {
    const env = new Environment();
    const seen: string[] = [];
    env.callAt(3, () => env.callIn(0, () => seen.push('follow-up')));
    env.run(3);
    expect(seen).toEqual(['follow-up']);
  });

  it('advances an empty schedule to until, and accepts until = now', () => {
    const env = new Environment();
    env.run(42);
    expect(env.now).toBe(42);
    env.callIn(0, () => undefined);
    env.run(42);
    expect(env.queueSize).toBe(0);
  });

  it('run(Infinity) runs to completion without moving the clock to Infinity', () => {
    const env = new Environment();
    env.callAt(3, () => undefined);
    env.run(Infinity);
    expect(env.now).toBe(3);
  });

  it.each([4, NaN])('rejects until = %s when now is 5', (until) => {
    const env = new Environment({ initialTime: 5 });
    expect(() => env.run(until)).toThrow(RangeError);
  });

  it('returns the value of an until event, stopping right after it', () => {
    const env = new Environment();
    const seen: number[] = [];
    const target = env.timeout(3, 'three');
    env.callAt(3, () => seen.push(3));
    env.callAt(4, () => seen.push(4));
    expect(env.run(target)).toBe('three');
    expect(env.now).toBe(3);
    expect(seen).toEqual([]); // the callback at 3 was scheduled after the timeout
    expect(env.run(target)).toBe('three'); // already processed: returns at once
    expect(seen).toEqual([]);
  });

  it('throws the error of a failed until event', () => {
    const env = new Environment();
    const ev = env.event<number>();
    const boom = new Error('boom');
    env.callAt(2, () => ev.fail(boom));
    expect(() => env.run(ev)).toThrow(boom);
    expect(env.now).toBe(2);
  });

  it('throws EmptySchedule if the until event is never triggered', () => {
    const env = new Environment();
    env.callAt(1, () => undefined);
    expect(() => env.run(env.event())).toThrow(EmptySchedule);
    expect(env.now).toBe(1);
  });

  it('rejects an until event of another environment', () => {
    expect(() => new Environment().run(new Environment().event())).toThrow(Error);
  });

  it('is not re-entrant', () => {
    const env = new Environment();
    let inner: unknown;
    env.callAt(1, () => {
      try {
        env.run();
      } catch (error) {
        inner = error;
      }
    });
    env.run();
    expect(inner).toBeInstanceOf(Error);
  });
});

describe('Environment scheduling checks', () => {
  it('callAt rejects times before now; callIn rejects negative or infinite delays', () => {
    const env = new Environment({ initialTime: 10 });
    expect(() => env.callAt(9.999, () => undefined)).toThrow(RangeError);
    expect(() => env.callAt(NaN, () => undefined)).toThrow(RangeError);
    expect(() => env.callIn(-1, () => undefined)).toThrow(RangeError);
    expect(() => env.callIn(Infinity, () => undefined)).toThrow(RangeError);
    expect(() => env.timeout(-0.5)).toThrow(RangeError);
    expect(env.queueSize).toBe(0);
  });

  it('schedule needs a triggered, unqueued event of this environment', () => {
    const env = new Environment();
    const pending = env.event();
    expect(() => env.schedule(pending)).toThrow(/triggered/);
    const done = env.event().succeed(1);
    expect(() => env.schedule(done)).toThrow(/already in the queue/);
    expect(() => new Environment().schedule(env.event())).toThrow(/another environment/);
  });

  it('schedule with a delay and priority on a subclass-style event', () => {
    const env = new Environment();
    const ev = env.event<string>();
    ev._resolve(true, 'late');
    env.schedule(ev, 2.5, URGENT);
    const seen: number[] = [];
    ev.callbacks!.push(() => seen.push(env.now));
    env.run();
    expect(seen).toEqual([2.5]);
  });
});

describe('SimEvent', () => {
  it('goes pending -> triggered -> processed, running callbacks in order once', () => {
    const env = new Environment();
    const ev = env.event<number>();
    expect([ev.triggered, ev.processed]).toEqual([false, false]);
    expect(() => ev.value).toThrow();
    expect(() => ev.ok).toThrow();
    const calls: string[] = [];
    ev.callbacks!.push((e) => calls.push(`a${e.value}`));
    ev.callbacks!.push((e) => calls.push(`b${e.value}`));
    ev.succeed(7);
    expect([ev.triggered, ev.processed]).toEqual([true, false]);
    expect(calls).toEqual([]);
    env.run();
    expect([ev.triggered, ev.processed, ev.ok, ev.value]).toEqual([true, true, true, 7]);
    expect(ev.callbacks).toBeNull();
    expect(calls).toEqual(['a7', 'b7']);
  });

  it('cannot be triggered twice', () => {
    const env = new Environment();
    const ev = env.event();
    ev.succeed();
    expect(() => ev.succeed()).toThrow();
    expect(() => ev.fail(new Error('x'))).toThrow();
  });

  it('makes run throw when it fails unhandled', () => {
    const env = new Environment();
    const boom = new Error('unhandled');
    env.event().fail(boom);
    const after: number[] = [];
    env.callIn(1, () => after.push(1));
    expect(() => env.run()).toThrow(boom);
    expect(after).toEqual([]);
  });

  it('does not make run throw once defused', () => {
    const env = new Environment();
    const boom = new Error('handled');
    const ev = env.event();
    ev.callbacks!.push((e) => e.defuse());
    ev.fail(boom);
    env.run();
    expect(ev.ok).toBe(false);
    expect(ev.error).toBe(boom);
    expect(ev.defused).toBe(true);
    expect(() => ev.value).toThrow();
  });
});

describe('Environment hooks', () => {
  it('reports start, every clock advance (chained) and end', () => {
    const env = new Environment({ initialTime: 1 });
    const log: string[] = [];
    env.onStart((now) => log.push(`start@${now}`));
    env.onTimeAdvance((from, to) => log.push(`${from}->${to}`));
    env.onEnd((now, reason) => log.push(`end@${now}:${reason}`));
    for (const t of [1, 2, 2, 4]) env.callAt(t, () => log.push(`ev@${t}`));
    env.run(6);
    env.callIn(3, () => log.push('ev@9'));
    env.run();
    expect(log).toEqual([
      'start@1', 'ev@1', '1->2', 'ev@2', 'ev@2', '2->4', 'ev@4', '4->6', 'end@6:until',
      'start@6', '6->9', 'ev@9', 'end@9:empty',
    ]);
  });

  it('advances are chained and cover exactly the distinct event times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 100 }), (times) => {
        const env = new Environment();
        const advances: [number, number][] = [];
        env.onTimeAdvance((from, to) => {
          expect(env.now).toBe(to);
          advances.push([from, to]);
        });
        for (const t of times) env.callAt(t, () => undefined);
        env.run();
        const distinct = [...new Set(times)].filter((t) => t > 0).sort((a, b) => a - b);
        expect(advances.map(([, to]) => to)).toEqual(distinct);
        let previous = 0;
        for (const [from, to] of advances) {
          expect(from).toBe(previous);
          expect(to).toBeGreaterThan(from);
          previous = to;
        }
      }),
    );
  });

  it('reports the end of a failing run with reason "error"', () => {
    const env = new Environment();
    const reasons: RunEndReason[] = [];
    env.onEnd((_now, reason) => reasons.push(reason));
    env.callAt(1, () => {
      throw new Error('model bug');
    });
    expect(() => env.run()).toThrow('model bug');
    env.run(new SimEvent(env).succeed('x'));
    expect(reasons).toEqual(['error', 'until']);
  });

  it('unsubscribe stops a hook, is idempotent, and is safe during emission', () => {
    const env = new Environment();
    const log: string[] = [];
    const offA = env.onTimeAdvance((_f, to) => {
      log.push(`a${to}`);
      offA(); // unsubscribing itself while hooks are being called
    });
    const offB = env.onTimeAdvance((_f, to) => log.push(`b${to}`));
    env.callAt(1, () => undefined);
    env.callAt(2, () => undefined);
    env.callAt(3, () => undefined);
    env.run(2);
    offB();
    offB();
    env.run();
    expect(log).toEqual(['a1', 'b1', 'b2']);
  });
});

describe('Environment determinism', () => {
  /** A small model mixing processes, conditions, interrupts and raw callbacks, all driven by one seed. */
  function traceOf(seed: number): string[] {
    const env = new Environment();
    const rng = Rng.fromSeed(seed);
    const trace: string[] = [];
    env.onTimeAdvance((from, to) => trace.push(`t ${from}->${to}`));
    const workers = Array.from({ length: 5 }, (_, w) => {
      const r = rng.fork(`worker-${w}`);
      return env.process(function* (): ProcessGenerator<number> {
        let done = 0;
        for (let job = 0; job < 20; job++) {
          try {
            yield env.timeout(Math.floor(r.exponential(3) * 4) / 4, job);
            done++;
            trace.push(`w${w} job${job} @${env.now}`);
          } catch (error) {
            trace.push(`w${w} interrupted (${String((error as { cause?: unknown }).cause)}) @${env.now}`);
          }
        }
        return done;
      });
    });
    const chaos = rng.fork('chaos');
    for (let k = 0; k < 30; k++) {
      env.callAt(chaos.nextInt(40), (t) => {
        const victim = workers[chaos.nextInt(workers.length)]!;
        if (victim.isAlive) victim.interrupt(`k${k}`);
        trace.push(`chaos ${k} @${t}`);
      }, chaos.bernoulli(0.5) ? URGENT : NORMAL);
    }
    env.process(function* () {
      const all = yield env.allOf(workers);
      trace.push(`all done @${env.now}: ${[...(all as Map<unknown, number>).values()].join(',')}`);
    });
    env.run();
    return trace;
  }

  it('gives identical traces for identical inputs', () => {
    const first = traceOf(2024);
    const second = traceOf(2024);
    expect(first.length).toBeGreaterThan(100);
    expect(second).toEqual(first);
  });

  it('gives a different trace for a different seed (the trace depends on the input)', () => {
    expect(traceOf(2025)).not.toEqual(traceOf(2024));
  });
});
