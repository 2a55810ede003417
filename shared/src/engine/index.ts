/**
 * The deterministic discrete-event simulation engine. It knows nothing of the model: model code imports from here,
 * never the other way round.
 */
export { AllOf, AnyOf, Condition, type ConditionEvaluator, type ConditionValue } from './condition.js';
export {
  Environment,
  type EndHook,
  type EnvironmentOptions,
  type RunEndReason,
  type ScheduledCallback,
  type StartHook,
  type TimeAdvanceHook,
  type Unsubscribe,
} from './environment.js';
export { EmptySchedule, Interrupt } from './errors/index.js';
export { SimEvent, type EventCallback } from './event.js';
export { EventQueue, type QueueEntry } from './event-queue.js';
export { NORMAL, URGENT, type Priority } from './priority.js';
export { Process, type ProcessFunction, type ProcessGenerator } from './process.js';
export { Rng, hash32, unitHash } from './rng.js';
export { Timeout } from './timeout.js';
