import type { Environment } from './environment.js';
import { Interrupt } from './errors/interrupt.js';
import { SimEvent } from './event.js';
import { NORMAL, URGENT } from './priority.js';

/**
 * The generator a {@link Process} runs. It yields the events it waits for; `yield ev` evaluates to the value `ev`
 * succeeded with (typed `unknown`: cast it), or throws the error `ev` failed with. Its return value becomes the
 * process's value.
 */
export type ProcessGenerator<R = unknown> = Generator<SimEvent<unknown>, R, unknown>;

/** A function returning a {@link ProcessGenerator}, typically a `function*`. */
export type ProcessFunction<R = unknown> = () => ProcessGenerator<R>;

/**
 * A process: a generator driven by the environment, and itself an event that succeeds with the generator's
 * return value (or fails with what it throws), so other processes can wait for it.
 *
 * The generator starts at the current time, before ordinary events due then (its start is an URGENT event).
 * When it yields an event that has already been processed it continues at once, without going through the queue.
 */
export class Process<R = unknown> extends SimEvent<R> {
  private readonly generator: ProcessGenerator<R>;
  private waitingOn: SimEvent<unknown> | null;

  /** Resumes the generator with the outcome of `event`. One bound function per process, so it can be removed. */
  private readonly resume = (event: SimEvent<unknown>): void => {
    this.resumeWith(event);
  };

  constructor(env: Environment, generator: ProcessGenerator<R>) {
    if (typeof generator !== 'object' || generator === null || typeof generator.next !== 'function') {
      throw new TypeError('a process needs a generator (call the generator function, or pass it to env.process)');
    }
    super(env);
    this.generator = generator;
    const start = new SimEvent<undefined>(env);
    start._resolve(true, undefined);
    start.callbacks!.push(this.resume);
    env.schedule(start, 0, URGENT);
    this.waitingOn = start;
  }

  /** The event the process is waiting for, or `null` once it has finished. */
  get target(): SimEvent<unknown> | null {
    return this.waitingOn;
  }

  /** Whether the generator has not finished yet. */
  get isAlive(): boolean {
    return !this.triggered;
  }

  /**
   * Throws an {@link Interrupt} carrying `cause` into the process, at the current time and before ordinary events
   * due now (URGENT). The process stops waiting for its current event (which still happens, but no longer
   * resumes it). If the process has finished by the time the interrupt is processed, nothing happens.
   * @throws Error if the process has already finished, or if a process tries to interrupt itself.
   */
  interrupt(cause?: unknown): void {
    if (this.triggered) throw new Error('the process has finished and cannot be interrupted');
    if (this.env.activeProcess === this) throw new Error('a process cannot interrupt itself');
    const interruption = new SimEvent<never>(this.env);
    interruption._resolve(false, new Interrupt(cause));
    interruption._defused = true;
    interruption.callbacks!.push((event) => {
      if (this.triggered) return;
      const waited = this.waitingOn;
      const callbacks = waited?.callbacks;
      if (callbacks) {
        const at = callbacks.indexOf(this.resume);
        if (at >= 0) callbacks.splice(at, 1);
      }
      this.resumeWith(event);
    });
    this.env.schedule(interruption, 0, URGENT);
  }

  private resumeWith(first: SimEvent<unknown>): void {
    const env = this.env;
    const previous = env._activeProcess;
    env._activeProcess = this as Process<unknown>;
    try {
      let event = first;
      while (true) {
        let step: IteratorResult<SimEvent<unknown>, R>;
        try {
          if (event._ok) {
            step = this.generator.next(event._value);
          } else {
            event._defused = true;
            step = this.generator.throw(event._value);
          }
        } catch (error) {
          this.waitingOn = null;
          this._resolve(false, error);
          env.schedule(this, 0, NORMAL);
          return;
        }
        if (step.done === true) {
          this.waitingOn = null;
          this._resolve(true, step.value);
          env.schedule(this, 0, NORMAL);
          return;
        }
        const next: unknown = step.value;
        if (!(next instanceof SimEvent) || next.env !== env) {
          const bad = new SimEvent<never>(env);
          bad._resolve(
            false,
            new TypeError(
              next instanceof SimEvent
                ? 'a process yielded an event of another environment'
                : `a process must yield SimEvents, got ${String(next)}`,
            ),
          );
          event = bad;
          continue;
        }
        const callbacks = next.callbacks;
        if (callbacks !== null) {
          callbacks.push(this.resume);
          this.waitingOn = next;
          return;
        }
        // Already processed: continue at once with its outcome.
        event = next;
      }
    } finally {
      env._activeProcess = previous;
    }
  }
}
