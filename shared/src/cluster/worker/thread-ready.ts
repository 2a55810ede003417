import { readlinkSync } from 'node:fs';

/**
 * What a worker thread (a simulation thread, a coordinator thread) posts once its modules are loaded: the services
 * start serving only when their threads are ready, so a process that says it is ready has paid its start-up. `tid`
 * is the thread's OS thread id where the platform tells it (Linux: `/proc/thread-self`), so its CPU can be read
 * from `/proc/<pid>/task/<tid>/stat` and matched in `top -H`.
 */
export interface ThreadReady {
  readonly ready: true;
  readonly tid: number | undefined;
}

/** This thread's OS thread id, or undefined off Linux. */
export function osThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

export function isThreadReady(msg: unknown): msg is ThreadReady {
  return msg !== null && typeof msg === 'object' && (msg as { ready?: unknown }).ready === true;
}

export function threadReady(): ThreadReady {
  return { ready: true, tid: osThreadId() };
}
