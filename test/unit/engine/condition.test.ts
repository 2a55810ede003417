import { describe, expect, it } from 'vitest';
import { AllOf, AnyOf, Condition, type ConditionValue } from '../../../shared/src/engine/condition.js';
import { Environment } from '../../../shared/src/engine/environment.js';
import type { SimEvent } from '../../../shared/src/engine/event.js';

describe('AllOf', () => {
  it('succeeds when the last event is processed, with every value in the given order', () => {
    const env = new Environment();
    const a = env.timeout(3, 'a');
    const b = env.timeout(1, 'b');
    const c = env.timeout(2, 'c');
    const all = env.allOf([a, b, c]);
    expect(all).toBeInstanceOf(AllOf);
    expect(all).toBeInstanceOf(Condition);
    const value = env.run(all);
    expect(env.now).toBe(3);
    expect([...value.keys()]).toEqual([a, b, c]);
    expect([...value.values()]).toEqual(['a', 'b', 'c']);
    expect(value.get(b)).toBe('b');
  });

  it('can be waited on by a process', () => {
    const env = new Environment();
    let at = -1;
    let values: unknown[] = [];
    env.process(function* () {
      const value = (yield env.allOf([env.timeout(2, 1), env.timeout(5, 2)])) as ConditionValue<number>;
      at = env.now;
      values = [...value.values()];
    });
    env.run();
    expect(at).toBe(5);
    expect(values).toEqual([1, 2]);
  });

  it('counts events that were already processed', () => {
    const env = new Environment();
    const early = env.timeout(1, 'early');
    env.run();
    const late = env.timeout(2, 'late');
    const value = env.run(env.allOf([early, late]));
    expect(env.now).toBe(3);
    expect([...value.values()]).toEqual(['early', 'late']);
  });

  it('fails with the first failure, defusing the failed event', () => {
    const env = new Environment();
    const bad = env.event<string>();
    const boom = new Error('child failed');
    env.callAt(1, () => bad.fail(boom));
    const all = env.allOf([env.timeout(5, 'slow'), bad]);
    let caught: unknown;
    env.process(function* () {
      try {
        yield all;
      } catch (error) {
        caught = error;
      }
    });
    env.run();
    expect(caught).toBe(boom);
    expect(all.ok).toBe(false);
    expect(bad.defused).toBe(true);
  });

  it('makes run throw if its own failure is not handled', () => {
    const env = new Environment();
    const bad = env.event();
    const boom = new Error('unhandled condition failure');
    env.allOf([bad, env.timeout(1)]);
    bad.fail(boom);
    expect(() => env.run()).toThrow(boom);
  });

  it('succeeds at once, with an empty map, over no events', () => {
    const env = new Environment({ initialTime: 7 });
    const all = env.allOf([]);
    expect(all.triggered).toBe(true);
    expect(env.run(all).size).toBe(0);
    expect(env.now).toBe(7);
  });

  it('waits for repeated events once per occurrence', () => {
    const env = new Environment();
    const t = env.timeout(2, 'x');
    const value = env.run(env.allOf([t, t]));
    expect(env.now).toBe(2);
    expect(value.size).toBe(1);
  });

  it('rejects events of another environment', () => {
    const env = new Environment();
    expect(() => env.allOf([env.timeout(1), new Environment().timeout(1)])).toThrow(Error);
  });
});

describe('AnyOf', () => {
  it('succeeds when the first event is processed', () => {
    const env = new Environment();
    const slow = env.timeout(5, 'slow');
    const fast = env.timeout(2, 'fast');
    const any = env.anyOf([slow, fast]);
    expect(any).toBeInstanceOf(AnyOf);
    const value = env.run(any);
    expect(env.now).toBe(2);
    expect([...value.entries()]).toEqual([[fast, 'fast']]);
    expect(slow.processed).toBe(false);
  });

  it('also holds events processed between its trigger and its own processing (same time)', () => {
    const env = new Environment();
    const first = env.timeout(1, 'first');
    const second = env.timeout(1, 'second');
    const later = env.timeout(1.5, 'later');
    const value = env.run(env.anyOf([later, second, first]));
    expect(env.now).toBe(1);
    expect([...value.values()]).toEqual(['second', 'first']); // given order, without the unprocessed one
  });

  it('stops listening once processed: a later failure of another event is not its concern', () => {
    const env = new Environment();
    const ok = env.timeout(1, 'ok');
    const bad = env.event();
    const any = env.anyOf([ok, bad]);
    env.run(any);
    const boom = new Error('late failure');
    bad.fail(boom);
    expect(bad.callbacks).toEqual([]); // the condition removed its check
    expect(() => env.run()).toThrow(boom); // nobody handles it
    expect(any.ok).toBe(true);
  });

  it('fails if an event fails before any succeeds', () => {
    const env = new Environment();
    const bad = env.event();
    const any = env.anyOf([env.timeout(3), bad]);
    const boom = new Error('first to finish failed');
    env.callAt(1, () => bad.fail(boom));
    any.callbacks!.push((ev) => ev.defuse());
    env.run();
    expect(any.error).toBe(boom);
  });

  it('succeeds at once over no events', () => {
    const env = new Environment();
    expect(env.run(env.anyOf([])).size).toBe(0);
  });
});

describe('nested conditions', () => {
  it('(a AND b) OR c: a nested condition is one entry whose value is its own map', () => {
    const env = new Environment();
    const a = env.timeout(1, 'a');
    const b = env.timeout(2, 'b');
    const c = env.timeout(5, 'c');
    const ab = env.allOf<string>([a, b]);
    const either = env.anyOf<unknown>([ab, c as SimEvent<unknown>]);
    const value = env.run(either);
    expect(env.now).toBe(2);
    expect([...value.keys()]).toEqual([ab]);
    expect([...(value.get(ab) as ConditionValue<string>).values()]).toEqual(['a', 'b']);
  });
});
