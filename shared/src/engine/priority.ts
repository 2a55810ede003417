/**
 * Scheduling priority of an entry in the event queue. Among entries due at the same simulated time, the one with
 * the lower priority number is processed first; entries with equal time and priority are processed in the order
 * they were scheduled (FIFO). Any finite number is accepted; the engine itself only uses {@link URGENT} and
 * {@link NORMAL}, as SimPy does.
 */
export type Priority = number;

/** Priority of engine-internal events that must run before ordinary ones at the same time (process start, interrupts). */
export const URGENT: Priority = 0;

/** Default priority of events, timeouts and callbacks. */
export const NORMAL: Priority = 1;
