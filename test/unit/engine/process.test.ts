import { describe, expect, it } from 'vitest';
import { Environment } from '../../../shared/src/engine/environment.js';
import { Interrupt } from '../../../shared/src/engine/errors/index.js';
import type { SimEvent } from '../../../shared/src/engine/event.js';
import { Process, type ProcessGenerator } from '../../../shared/src/engine/process.js';
import { URGENT } from '../../../shared/src/engine/priority.js';

describe('Process', () => {
  it('waits on timeouts and receives their values', () => {
    const env = new Environment();
    const seen: [number, unknown][] = [];
    env.process(function* () {
      const a = yield env.timeout(2, 'a');
      seen.push([env.now, a]);
      const b = yield env.timeout(0.5, 'b');
      seen.push([env.now, b]);
      const c = yield env.timeout(0);
      seen.push([env.now, c]);
    });
    env.run();
    expect(seen).toEqual([
      [2, 'a'],
      [2.5, 'b'],
      [2.5, undefined],
    ]);
  });

  it('succeeds with the generator return value, which other processes can wait for', () => {
    const env = new Environment();
    const child = env.process(function* (): ProcessGenerator<number> {
      yield env.timeout(3);
      return 42;
    });
    const parent = env.process(function* (): ProcessGenerator<string> {
      const result = (yield child) as number;
      return `child said ${result} at ${env.now}`;
    });
    expect(child).toBeInstanceOf(Process);
    expect(env.run(parent)).toBe('child said 42 at 3');
    expect(child.value).toBe(42);
    expect(child.isAlive).toBe(false);
    expect(child.target).toBeNull();
  });

  it('accepts a generator object as well as a generator function', () => {
    const env = new Environment();
    function* gen(x: number): ProcessGenerator<number> {
      yield env.timeout(1);
      return x * 2;
    }
    expect(env.run(env.process(gen(21)))).toBe(42);
    expect(() => env.process({} as ProcessGenerator)).toThrow(TypeError);
  });

  it('starts at the current time, before NORMAL events due then', () => {
    const env = new Environment();
    const order: string[] = [];
    env.callIn(0, () => order.push('normal callback'));
    env.process(function* () {
      order.push(`process start @${env.now}`);
      yield env.timeout(0);
    });
    env.run();
    expect(order).toEqual(['process start @0', 'normal callback']);
  });

  it('sets activeProcess while its generator runs', () => {
    const env = new Environment();
    const seen: (Process<unknown> | null)[] = [];
    const p = env.process(function* () {
      seen.push(env.activeProcess);
      yield env.timeout(1);
      seen.push(env.activeProcess);
    });
    env.run();
    expect(seen).toEqual([p, p]);
    expect(env.activeProcess).toBeNull();
  });

  it('continues at once when it yields an already processed event', () => {
    const env = new Environment();
    const done = env.timeout(1, 'old');
    const seen: unknown[] = [];
    env.run();
    env.process(function* () {
      seen.push(yield done);
      seen.push(env.now);
    });
    env.step(); // only the start event: the generator ran to the end within it
    expect(seen).toEqual(['old', 1]);
  });

  it('throws a failed event into the generator, which can catch it (the failure is then handled)', () => {
    const env = new Environment();
    const ev = env.event<number>();
    const boom = new Error('boom');
    env.callAt(2, () => ev.fail(boom));
    const p = env.process(function* (): ProcessGenerator<string> {
      try {
        yield ev;
        return 'not reached';
      } catch (error) {
        yield env.timeout(1);
        return `caught ${(error as Error).message} at ${env.now}`;
      }
    });
    expect(env.run(p)).toBe('caught boom at 3');
    expect(ev.defused).toBe(true);
  });

  it('fails with an uncaught error; a waiting process receives it', () => {
    const env = new Environment();
    const boom = new Error('inner');
    const failing = env.process(function* () {
      yield env.timeout(1);
      throw boom;
    });
    const waiter = env.process(function* (): ProcessGenerator<unknown> {
      try {
        yield failing;
      } catch (error) {
        return error;
      }
      return null;
    });
    expect(env.run(waiter)).toBe(boom);
    expect(failing.ok).toBe(false);
    expect(failing.error).toBe(boom);
  });

  it('makes run throw when its failure is not handled', () => {
    const env = new Environment();
    const boom = new Error('nobody listens');
    env.process(function* () {
      yield env.timeout(1);
      throw boom;
    });
    expect(() => env.run()).toThrow(boom);
    expect(env.now).toBe(1);
  });

  it('makes run throw when it does not catch an event failure', () => {
    const env = new Environment();
    const boom = new Error('propagated');
    const ev = env.event();
    env.process(function* () {
      yield ev;
    });
    env.callAt(1, () => ev.fail(boom));
    expect(() => env.run()).toThrow(boom);
  });

  it('throws a TypeError into the generator when it yields something that is not an event', () => {
    const env = new Environment();
    const p = env.process(function* (): ProcessGenerator<unknown> {
      try {
        yield 'not an event' as unknown as SimEvent;
      } catch (error) {
        return error;
      }
      return null;
    });
    expect(env.run(p)).toBeInstanceOf(TypeError);
    const other = new Environment();
    const q = env.process(function* (): ProcessGenerator<unknown> {
      try {
        yield other.timeout(1);
      } catch (error) {
        return error;
      }
      return null;
    });
    expect(env.run(q)).toBeInstanceOf(TypeError);
  });
});

describe('Process.interrupt', () => {
  it('throws an Interrupt with the cause into the waiting process, now', () => {
    const env = new Environment();
    const log: string[] = [];
    const sleeper = env.process(function* () {
      try {
        yield env.timeout(10);
        log.push('slept through');
      } catch (error) {
        expect(error).toBeInstanceOf(Interrupt);
        log.push(`interrupted by ${String((error as Interrupt).cause)} @${env.now}`);
      }
      yield env.timeout(1);
      log.push(`done @${env.now}`);
    });
    env.process(function* () {
      yield env.timeout(4);
      sleeper.interrupt('alarm');
    });
    env.run();
    // The original 10 s timeout still happens but no longer resumes the process.
    expect(log).toEqual(['interrupted by alarm @4', 'done @5']);
    expect(env.now).toBe(10);
  });

  it('is processed before NORMAL events due at the same time', () => {
    const env = new Environment();
    const log: string[] = [];
    const p = env.process(function* () {
      try {
        yield env.timeout(5);
        log.push('timeout');
      } catch {
        log.push(`interrupt @${env.now}`);
      }
    });
    env.callAt(5, () => log.push('callback'));
    env.callAt(5, () => p.interrupt(), URGENT);
    env.run();
    expect(log).toEqual(['interrupt @5', 'callback']);
  });

  it('makes the process fail with the Interrupt when not caught', () => {
    const env = new Environment();
    const p = env.process(function* () {
      yield env.timeout(10);
    });
    env.callAt(1, () => p.interrupt('stop'));
    let caught: unknown;
    env.process(function* () {
      try {
        yield p;
      } catch (error) {
        caught = error;
      }
    });
    env.run();
    expect(caught).toBeInstanceOf(Interrupt);
    expect((caught as Interrupt).cause).toBe('stop');
    expect(p.ok).toBe(false);
  });

  it('reaches a just-created process at its first yield (its start is processed first)', () => {
    const env = new Environment();
    const log: string[] = [];
    const p = env.process(function* () {
      log.push('started');
      yield env.timeout(1);
      log.push('not reached');
    });
    p.interrupt('early');
    p.callbacks!.push((ev) => ev.defuse());
    env.run();
    expect(log).toEqual(['started']);
    expect(p.error).toBeInstanceOf(Interrupt);
    expect((p.error as Interrupt).cause).toBe('early');
  });

  it('cannot interrupt a finished process, nor itself', () => {
    const env = new Environment();
    const finished = env.process(function* () {
      yield env.timeout(1);
    });
    env.run();
    expect(() => finished.interrupt()).toThrow(/finished/);
    let selfError: unknown;
    const self: Process<void> = env.process(function* () {
      try {
        self.interrupt();
      } catch (error) {
        selfError = error;
      }
      yield env.timeout(1);
    });
    env.run();
    expect(selfError).toBeInstanceOf(Error);
    expect(String(selfError)).toMatch(/itself/);
  });

  it('does nothing if the process has finished by the time the interrupt is processed', () => {
    const env = new Environment();
    const p = env.process(function* (): ProcessGenerator<string> {
      try {
        yield env.timeout(10);
      } catch (error) {
        return `stopped by ${String((error as Interrupt).cause)}`;
      }
      return 'slept';
    });
    env.callAt(1, () => {
      p.interrupt('a'); // p is alive for both calls; it finishes when the first one is processed
      p.interrupt('b');
    });
    env.run();
    expect(p.value).toBe('stopped by a');
  });

  it('removes the process from the event it was waiting on', () => {
    const env = new Environment();
    const ev = env.event<string>();
    const log: unknown[] = [];
    const p = env.process(function* () {
      try {
        yield ev;
      } catch (error) {
        log.push(error instanceof Interrupt ? 'interrupt' : error);
      }
      log.push(yield env.timeout(5, 'after'));
    });
    env.callAt(1, () => p.interrupt());
    env.callAt(2, () => ev.succeed('late'));
    env.run();
    expect(log).toEqual(['interrupt', 'after']);
    expect(ev.processed).toBe(true);
  });
});
