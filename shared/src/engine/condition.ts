import type { Environment } from './environment.js';
import { SimEvent } from './event.js';

/**
 * The value of a condition: a `Map` from each of its events that had been processed successfully by the time the
 * condition was processed, to that event's value, in the order the events were given. For {@link AllOf} that is
 * every event; for {@link AnyOf} it is the first one and any others processed before the condition itself (for
 * example other events due at the same time). A nested condition appears as one entry whose value is its own map.
 */
export type ConditionValue<V = unknown> = Map<SimEvent<V>, V>;

/**
 * Decides whether a condition is met, given its events and how many of them have been processed successfully so
 * far (counting a repeated event once per occurrence).
 */
export type ConditionEvaluator = (events: readonly SimEvent<unknown>[], processedCount: number) => boolean;

/**
 * An event that succeeds once `evaluate` says enough of `events` have succeeded, or fails as soon as one of them
 * fails (with that event's error; the failing event is then defused, the condition's failure must be handled
 * instead). With no events it succeeds at once with an empty map. See {@link ConditionValue} for its value.
 */
export class Condition<V = unknown> extends SimEvent<ConditionValue<V>> {
  /** The events the condition is over, in the order given. */
  readonly events: readonly SimEvent<V>[];
  private readonly evaluate: ConditionEvaluator;
  private processedCount = 0;

  private readonly check = (event: SimEvent<V>): void => {
    if (this.triggered) return;
    this.processedCount++;
    if (!event._ok) {
      event._defused = true;
      this._resolve(false, event._value);
      this.env.schedule(this);
    } else if (this.evaluate(this.events, this.processedCount)) {
      this.succeed(this.collectValues());
    }
  };

  /**
   * @throws Error if an event belongs to another environment.
   */
  constructor(env: Environment, evaluate: ConditionEvaluator, events: readonly SimEvent<V>[]) {
    super(env);
    this.evaluate = evaluate;
    this.events = [...events];
    for (const event of this.events) {
      if (event.env !== env) throw new Error('a condition cannot mix events of different environments');
    }
    if (this.events.length === 0) {
      this.succeed(new Map());
      return;
    }
    for (const event of this.events) {
      if (event.callbacks === null) this.check(event);
      else event.callbacks.push(this.check);
    }
    // Runs first when the condition is processed: final value, and stop listening to the remaining events.
    this.callbacks!.unshift(() => {
      for (const event of this.events) {
        const callbacks = event.callbacks;
        if (callbacks === null) continue;
        const at = callbacks.indexOf(this.check);
        if (at >= 0) callbacks.splice(at, 1);
      }
      if (this._ok) this._value = this.collectValues();
    });
  }

  private collectValues(): ConditionValue<V> {
    const value: ConditionValue<V> = new Map();
    for (const event of this.events) {
      if (event.processed && event._ok) value.set(event, event._value as V);
    }
    return value;
  }
}

/** A condition met when all of its events have succeeded. */
export class AllOf<V = unknown> extends Condition<V> {
  constructor(env: Environment, events: readonly SimEvent<V>[]) {
    super(env, (all, processedCount) => processedCount === all.length, events);
  }
}

/** A condition met when any one of its events has succeeded (or at once if it has none). */
export class AnyOf<V = unknown> extends Condition<V> {
  constructor(env: Environment, events: readonly SimEvent<V>[]) {
    super(env, (all, processedCount) => processedCount > 0 || all.length === 0, events);
  }
}
