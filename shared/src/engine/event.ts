import type { Environment } from './environment.js';

interface EventCallbackSignature<V> {
  // A method signature, so that parameters are checked bivariantly and SimEvent<V> stays covariant in V.
  callback(event: SimEvent<V>): void;
}

/** A function run when an event is processed; it receives the event. */
export type EventCallback<V = unknown> = EventCallbackSignature<V>['callback'];

/** Lifecycle state of a {@link SimEvent}. */
export const enum EventState {
  /** No outcome yet. */
  Pending = 0,
  /** Has an outcome (value or error) and is, or is about to be, in the event queue. */
  Triggered = 1,
  /** Taken out of the queue; its callbacks have run. */
  Processed = 2,
}

/**
 * An event in simulated time, as in SimPy: it starts *pending*, becomes *triggered* when it is given an outcome
 * ({@link SimEvent.succeed} with a value or {@link SimEvent.fail} with an error) and is put into the environment's
 * queue, and becomes *processed* when the environment takes it out of the queue and runs its callbacks.
 *
 * A failed event must be handled: if none of its callbacks {@link SimEvent.defuse | defuses} it, processing it
 * makes {@link Environment.step} (and so {@link Environment.run}) throw the error. A process waiting on a failed
 * event defuses it and receives the error thrown into its generator, where it can be caught.
 *
 * @typeParam V the value the event succeeds with.
 */
export class SimEvent<V = unknown> {
  /** The environment this event belongs to. */
  readonly env: Environment;
  /**
   * Functions to run when the event is processed, in order. `null` once the event has been processed (a callback
   * added after that would never run).
   */
  callbacks: EventCallback<V>[] | null = [];

  /** @internal Lifecycle state. */
  _state: EventState = EventState.Pending;
  /** @internal Whether the outcome is a success. Meaningful once triggered. */
  _ok = false;
  /** @internal The value (on success) or the error (on failure). */
  _value: unknown = undefined;
  /** @internal Whether a failure has been handled. */
  _defused = false;
  /** @internal Whether the event has been put into the queue (it can be, once). */
  _queued = false;

  constructor(env: Environment) {
    this.env = env;
  }

  /** Whether the event has an outcome (it may not have been processed yet). */
  get triggered(): boolean {
    return this._state !== EventState.Pending;
  }

  /** Whether the environment has processed the event (its callbacks have run). */
  get processed(): boolean {
    return this._state === EventState.Processed;
  }

  /**
   * Whether the event succeeded.
   * @throws Error if the event is still pending.
   */
  get ok(): boolean {
    if (this._state === EventState.Pending) throw new Error('the outcome of a pending event is not yet known');
    return this._ok;
  }

  /**
   * The value the event succeeded with.
   * @throws Error if the event is pending, or failed (the error is then the thrown error's `cause`; see
   * {@link SimEvent.error}).
   */
  get value(): V {
    if (this._state === EventState.Pending) throw new Error('the value of a pending event is not yet available');
    if (!this._ok) throw new Error('the event failed; it has no value', { cause: this._value });
    return this._value as V;
  }

  /** The error the event failed with; `undefined` if it is pending or succeeded. */
  get error(): unknown {
    return this._state !== EventState.Pending && !this._ok ? this._value : undefined;
  }

  /** Whether a failure of this event has been handled (so processing it will not throw). */
  get defused(): boolean {
    return this._defused;
  }

  /** Marks a failure of this event as handled: processing it will not make the environment throw. */
  defuse(): void {
    this._defused = true;
  }

  /**
   * Triggers the event with success and `value`, and schedules it for processing now (priority NORMAL).
   * @returns this event.
   * @throws Error if the event has already been triggered.
   */
  succeed(value?: V): this {
    this._resolve(true, value);
    this.env.schedule(this);
    return this;
  }

  /**
   * Triggers the event with failure and `error`, and schedules it for processing now (priority NORMAL).
   * @returns this event.
   * @throws Error if the event has already been triggered.
   */
  fail(error: Error): this {
    this._resolve(false, error);
    this.env.schedule(this);
    return this;
  }

  /**
   * @internal Gives the event its outcome without scheduling it (the caller schedules it, possibly with a delay or
   * another priority, with {@link Environment.schedule}).
   */
  _resolve(ok: boolean, value: unknown): void {
    if (this._state !== EventState.Pending) throw new Error('the event has already been triggered');
    this._state = EventState.Triggered;
    this._ok = ok;
    this._value = value;
  }
}
