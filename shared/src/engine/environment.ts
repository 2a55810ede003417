import { AllOf, AnyOf } from './condition.js';
import { EmptySchedule } from './errors/empty-schedule.js';
import { EventState, SimEvent } from './event.js';
import { EventQueue } from './event-queue.js';
import { Process, type ProcessFunction, type ProcessGenerator } from './process.js';
import { NORMAL, type Priority } from './priority.js';
import { Timeout } from './timeout.js';

/** Options of an {@link Environment}. */
export interface EnvironmentOptions {
  /** Simulated time (seconds) the clock starts at; finite and >= 0. Default 0. */
  readonly initialTime?: number;
}

/** A plain function scheduled with {@link Environment.callAt} / {@link Environment.callIn}; it receives the time. */
export type ScheduledCallback = (nowSeconds: number) => void;

/** Why a {@link Environment.run} call ended: the queue ran empty, the `until` bound was reached, or it threw. */
export type RunEndReason = 'empty' | 'until' | 'error';

/** Observer of the start of a {@link Environment.run} call. */
export type StartHook = (nowSeconds: number) => void;
/** Observer of the clock moving forward from `fromSeconds` to `toSeconds`. */
export type TimeAdvanceHook = (fromSeconds: number, toSeconds: number) => void;
/** Observer of the end of a {@link Environment.run} call. */
export type EndHook = (nowSeconds: number, reason: RunEndReason) => void;
/** Removes the observer it was returned for; calling it again does nothing. */
export type Unsubscribe = () => void;

type QueueItem = SimEvent<unknown> | ScheduledCallback;

function subscribe<H>(list: { hooks: readonly H[] }, hook: H): Unsubscribe {
  // Copy on write, so a hook may (un)subscribe while hooks are being called.
  list.hooks = [...list.hooks, hook];
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const at = list.hooks.indexOf(hook);
    if (at >= 0) list.hooks = [...list.hooks.slice(0, at), ...list.hooks.slice(at + 1)];
  };
}

/**
 * The simulation environment: a clock ({@link Environment.now}, in seconds) and a queue of things due at future
 * times, modelled on SimPy's `Environment`.
 *
 * Ordering rule: entries are processed by increasing `(time, priority, seq)`, where `priority` is URGENT (0) or
 * NORMAL (1) (lower first) and `seq` is the order in which they were scheduled (FIFO among equal time and
 * priority). Determinism rule: the engine uses no wall clock, no `Math.random` and no hash-ordered containers, so
 * the same sequence of calls always processes the same entries in the same order.
 *
 * The queue holds {@link SimEvent}s (processing one runs its callbacks) and, for high-volume model work, plain
 * functions ({@link Environment.callAt}) that cost no event object.
 *
 * Observers (after SimGrid's engine signals) can watch the start of a run, every advance of the clock, and the end
 * of a run.
 */
export class Environment {
  private nowSeconds: number;
  private readonly queue = new EventQueue<QueueItem>();
  private running = false;
  private readonly startHooks: { hooks: readonly StartHook[] } = { hooks: [] };
  private readonly timeHooks: { hooks: readonly TimeAdvanceHook[] } = { hooks: [] };
  private readonly endHooks: { hooks: readonly EndHook[] } = { hooks: [] };

  /** @internal The process whose generator is running, set by {@link Process}. */
  _activeProcess: Process<unknown> | null = null;

  /** @throws RangeError if `options.initialTime` is negative or not finite. */
  constructor(options: EnvironmentOptions = {}) {
    const initialTime = options.initialTime ?? 0;
    if (!(initialTime >= 0 && initialTime < Infinity)) {
      throw new RangeError(`initialTime must be finite and >= 0, got ${initialTime}`);
    }
    this.nowSeconds = initialTime;
  }

  /** Current simulated time, in seconds. */
  get now(): number {
    return this.nowSeconds;
  }

  /** The process whose generator is running right now, or `null`. */
  get activeProcess(): Process<unknown> | null {
    return this._activeProcess;
  }

  /** Number of entries (events and callbacks) waiting in the queue. */
  get queueSize(): number {
    return this.queue.size;
  }

  /**
   * Puts a triggered event into the queue, to be processed at `now + delaySeconds`. {@link SimEvent.succeed},
   * {@link SimEvent.fail} and {@link Timeout} call this; call it directly for an event given its outcome by other
   * means (for example a subclass). An event can be queued only once.
   * @throws Error if the event belongs to another environment, has no outcome yet, or has already been queued.
   * @throws RangeError if `delaySeconds` is negative or not finite, or `priority` is not finite.
   */
  schedule(event: SimEvent<unknown>, delaySeconds = 0, priority: Priority = NORMAL): void {
    if (event.env !== this) throw new Error('the event belongs to another environment');
    if (event._state !== EventState.Triggered) {
      throw new Error(event.processed ? 'the event has already been processed' : 'schedule() needs a triggered event');
    }
    if (event._queued) throw new Error('the event is already in the queue');
    if (!(delaySeconds >= 0 && delaySeconds < Infinity)) {
      throw new RangeError(`delay must be finite and >= 0, got ${delaySeconds}`);
    }
    this.queue.push(this.nowSeconds + delaySeconds, priority, event);
    event._queued = true;
  }

  /**
   * Schedules `fn(timeSeconds)` at the absolute time `timeSeconds`, without creating an event object.
   * @throws RangeError if `timeSeconds` is before `now` or not finite, or `priority` is not finite.
   */
  callAt(timeSeconds: number, fn: ScheduledCallback, priority: Priority = NORMAL): void {
    if (!(timeSeconds >= this.nowSeconds)) {
      throw new RangeError(`cannot schedule at ${timeSeconds}, before now (${this.nowSeconds})`);
    }
    this.queue.push(timeSeconds, priority, fn);
  }

  /**
   * Schedules `fn(timeSeconds)` at `now + delaySeconds`, without creating an event object.
   * @throws RangeError if `delaySeconds` is negative or not finite, or `priority` is not finite.
   */
  callIn(delaySeconds: number, fn: ScheduledCallback, priority: Priority = NORMAL): void {
    if (!(delaySeconds >= 0)) throw new RangeError(`delay must be finite and >= 0, got ${delaySeconds}`);
    this.queue.push(this.nowSeconds + delaySeconds, priority, fn);
  }

  /** Time (seconds) of the next entry in the queue, or `Infinity` if it is empty. */
  peek(): number {
    return this.queue.peekTime();
  }

  /**
   * Processes the next entry: advances the clock to its time (notifying time-advance observers if it moves), then
   * runs the callback, or runs the event's callbacks.
   * @throws EmptySchedule if the queue is empty.
   * @throws the event's error if the event failed and no callback defused it.
   */
  step(): void {
    const queue = this.queue;
    if (queue.size === 0) throw new EmptySchedule();
    const time = queue.peekTime();
    const item = queue.popItem()!;
    if (time !== this.nowSeconds) this.advanceTo(time);
    if (typeof item === 'function') {
      item(time);
      return;
    }
    const callbacks = item.callbacks!;
    item.callbacks = null;
    item._state = EventState.Processed;
    for (let i = 0; i < callbacks.length; i++) callbacks[i]!(item);
    if (!item._ok && !item._defused) throw item._value;
  }

  /**
   * Without an argument (or with `Infinity`), runs until the queue is empty. Otherwise runs every entry due at or
   * before `untilSeconds`, then sets the clock to `untilSeconds` (entries due later stay queued; a later `run`
   * continues with them).
   * @throws RangeError if `untilSeconds` is before `now` or NaN.
   */
  run(untilSeconds?: number): void;
  /**
   * Runs until `until` has been processed (at once if it already has been) and returns its value.
   * @throws the event's error if it failed.
   * @throws EmptySchedule if the queue runs empty before the event is processed.
   */
  run<V>(until: SimEvent<V>): V;
  run(until?: number | SimEvent<unknown>): unknown {
    if (this.running) throw new Error('Environment.run() is not re-entrant');
    let untilEvent: SimEvent<unknown> | null = null;
    let untilSeconds = Infinity;
    if (until instanceof SimEvent) {
      if (until.env !== this) throw new Error('the until event belongs to another environment');
      untilEvent = until;
    } else if (until !== undefined) {
      if (!(until >= this.nowSeconds)) {
        throw new RangeError(`until (${until}) must not be before now (${this.nowSeconds})`);
      }
      untilSeconds = until;
    }

    this.running = true;
    let reason: RunEndReason = 'error';
    try {
      for (const hook of this.startHooks.hooks) hook(this.nowSeconds);
      const queue = this.queue;
      if (untilEvent !== null) {
        while (!untilEvent.processed) {
          if (queue.size === 0) {
            throw new EmptySchedule('no scheduled events left but the "until" event was not processed');
          }
          this.step();
        }
        if (!untilEvent._ok) throw untilEvent._value;
        reason = 'until';
        return untilEvent._value;
      }
      while (queue.size > 0 && queue.peekTime() <= untilSeconds) this.step();
      if (untilSeconds === Infinity) {
        reason = 'empty';
      } else {
        if (untilSeconds > this.nowSeconds) this.advanceTo(untilSeconds);
        reason = 'until';
      }
      return undefined;
    } finally {
      this.running = false;
      for (const hook of this.endHooks.hooks) hook(this.nowSeconds, reason);
    }
  }

  /** A new pending event, to be triggered with {@link SimEvent.succeed} or {@link SimEvent.fail}. */
  event<V = unknown>(): SimEvent<V> {
    return new SimEvent<V>(this);
  }

  /** An event processed `delaySeconds` from now, succeeding with `undefined`. */
  timeout(delaySeconds: number): Timeout<undefined>;
  /** An event processed `delaySeconds` from now, succeeding with `value`. */
  timeout<V>(delaySeconds: number, value: V): Timeout<V>;
  timeout(delaySeconds: number, value?: unknown): Timeout<unknown> {
    return new Timeout(this, delaySeconds, value);
  }

  /** Starts a process running `generator` (a generator object, or a function returning one) now. */
  process<R>(generator: ProcessGenerator<R> | ProcessFunction<R>): Process<R> {
    return new Process<R>(this, typeof generator === 'function' ? generator() : generator);
  }

  /** An event that succeeds when all of `events` have succeeded. */
  allOf<V>(events: readonly SimEvent<V>[]): AllOf<V> {
    return new AllOf<V>(this, events);
  }

  /** An event that succeeds when any of `events` has succeeded. */
  anyOf<V>(events: readonly SimEvent<V>[]): AnyOf<V> {
    return new AnyOf<V>(this, events);
  }

  /** Observes the start of every {@link Environment.run} call, with the time it starts at. */
  onStart(hook: StartHook): Unsubscribe {
    return subscribe(this.startHooks, hook);
  }

  /**
   * Observes every advance of the clock, as `(fromSeconds, toSeconds)`. It is called after `now` has moved to
   * `toSeconds` and before anything due then is processed, so the model state it sees is the state that held over
   * `[fromSeconds, toSeconds)`. Consecutive calls chain (`to` of one is `from` of the next).
   */
  onTimeAdvance(hook: TimeAdvanceHook): Unsubscribe {
    return subscribe(this.timeHooks, hook);
  }

  /**
   * Observes the end of every {@link Environment.run} call, with the final time and the reason. It is called even
   * when the run throws (reason `'error'`); an exception from the hook then replaces the run's.
   */
  onEnd(hook: EndHook): Unsubscribe {
    return subscribe(this.endHooks, hook);
  }

  private advanceTo(toSeconds: number): void {
    const fromSeconds = this.nowSeconds;
    this.nowSeconds = toSeconds;
    const hooks = this.timeHooks.hooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(fromSeconds, toSeconds);
  }
}
