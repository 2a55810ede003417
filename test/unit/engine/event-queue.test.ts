import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue, type QueueEntry } from '../../../shared/src/engine/event-queue.js';

type Op = { kind: 'push'; time: number; priority: number } | { kind: 'pop' };

const timeArb = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1e6, noNaN: true }));
const priorityArb = fc.integer({ min: -2, max: 3 });

function compareKeys(a: QueueEntry<unknown>, b: QueueEntry<unknown>): number {
  return a.time - b.time || a.priority - b.priority || a.seq - b.seq;
}

function drain<T>(queue: EventQueue<T>): QueueEntry<T>[] {
  const out: QueueEntry<T>[] = [];
  for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) out.push(entry);
  return out;
}

describe('EventQueue', () => {
  it('is empty at first', () => {
    const queue = new EventQueue<string>();
    expect(queue.size).toBe(0);
    expect(queue.peekTime()).toBe(Infinity);
    expect(queue.pop()).toBeUndefined();
    expect(queue.popItem()).toBeUndefined();
  });

  it('hands out increasing sequence numbers', () => {
    const queue = new EventQueue<number>();
    expect([queue.push(5, 1, 0), queue.push(1, 1, 1), queue.push(3, 0, 2)]).toEqual([0, 1, 2]);
    expect(queue.size).toBe(3);
    expect(queue.peekTime()).toBe(1);
  });

  it('pops in non-decreasing (time, priority, seq) order, as a stable sort would', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(timeArb, priorityArb), { maxLength: 300 }), (keys) => {
        const queue = new EventQueue<number>(1); // start tiny to exercise growth
        keys.forEach(([time, priority], index) => queue.push(time, priority, index));
        const popped = drain(queue);
        expect(popped).toHaveLength(keys.length);
        for (let i = 1; i < popped.length; i++) expect(compareKeys(popped[i - 1]!, popped[i]!)).toBeLessThan(0);
        const expected = keys
          .map(([time, priority], index) => ({ time, priority, index }))
          .sort((a, b) => a.time - b.time || a.priority - b.priority); // Array.prototype.sort is stable
        expect(popped.map((e) => e.item)).toEqual(expected.map((e) => e.index));
        expect(popped.map((e) => e.seq)).toEqual(expected.map((e) => e.index));
      }),
    );
  });

  it('keeps FIFO order among equal keys', () => {
    const queue = new EventQueue<string>();
    const names = Array.from({ length: 100 }, (_, i) => `e${i}`);
    for (const name of names) queue.push(7, 1, name);
    expect(drain(queue).map((e) => e.item)).toEqual(names);
  });

  it('matches a sorted reference under interleaved pushes and pops', () => {
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), time: timeArb, priority: priorityArb }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'pop' as const }) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const queue = new EventQueue<number>(2);
        const reference: { time: number; priority: number; seq: number }[] = [];
        for (const op of ops) {
          if (op.kind === 'push') {
            const seq = queue.push(op.time, op.priority, reference.length);
            reference.push({ time: op.time, priority: op.priority, seq });
          } else {
            const live = reference.filter((r) => r.seq >= 0);
            live.sort((a, b) => a.time - b.time || a.priority - b.priority || a.seq - b.seq);
            const want = live[0];
            expect(queue.peekTime()).toBe(want === undefined ? Infinity : want.time);
            const got = queue.pop();
            if (want === undefined) {
              expect(got).toBeUndefined();
            } else {
              expect(got).toEqual({ time: want.time, priority: want.priority, seq: want.seq, item: want.seq });
              want.seq = -1; // mark removed
            }
          }
          expect(queue.size).toBe(reference.filter((r) => r.seq >= 0).length);
        }
      }),
    );
  });

  it('popItem returns the same items in the same order as pop', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(timeArb, priorityArb), { maxLength: 200 }), (keys) => {
        const a = new EventQueue<number>();
        const b = new EventQueue<number>();
        keys.forEach(([time, priority], index) => {
          a.push(time, priority, index);
          b.push(time, priority, index);
        });
        const viaPop = drain(a).map((e) => e.item);
        const viaPopItem: number[] = [];
        while (b.size > 0) {
          const timeBefore = b.peekTime();
          const item = b.popItem()!;
          expect(timeBefore).toBe(keys[item]![0]);
          viaPopItem.push(item);
        }
        expect(viaPopItem).toEqual(viaPop);
      }),
    );
  });

  it.each([NaN, -1, -Number.MIN_VALUE, Infinity, -Infinity])('rejects time %s with a RangeError', (time) => {
    const queue = new EventQueue<number>();
    expect(() => queue.push(time, 1, 0)).toThrow(RangeError);
    expect(queue.size).toBe(0);
  });

  it.each([NaN, Infinity, -Infinity])('rejects priority %s with a RangeError', (priority) => {
    expect(() => new EventQueue<number>().push(1, priority, 0)).toThrow(RangeError);
  });

  it('clear empties the queue and sequence numbers keep increasing', () => {
    const queue = new EventQueue<number>();
    queue.push(1, 1, 1);
    queue.push(2, 1, 2);
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.peekTime()).toBe(Infinity);
    expect(queue.push(0, 1, 3)).toBe(2);
    expect(queue.pop()).toEqual({ time: 0, priority: 1, seq: 2, item: 3 });
  });
});
