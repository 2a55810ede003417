import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** Starts a process with its output appended to a log file; it dies with this process. */
export function startLogged(cmd: string, args: readonly string[], env: Record<string, string>, logFile: string): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout?.pipe(log);
  p.stderr?.pipe(log);
  return p;
}

/** Peak resident set size of a live process (VmHWM), in bytes; undefined once it exited. */
export function peakRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export function stop(p: ChildProcess | undefined, graceMs: number = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), graceMs).unref();
  });
}

/** An instant query through Prometheus' HTTP API; the first sample's value (NaN when empty). */
export async function promScalar(base: string, expr: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: { value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  const v = body.data?.result[0]?.value[1];
  return v === undefined ? Number.NaN : Number(v);
}

/** What BullMQ keeps of a queue after the load: job hashes left, the events stream's length, all keys. */
export async function queueBookkeeping(url: string, prefix: string, queue: string = 'jobs'): Promise<{ job_hashes_left: number; events_stream_len: number; queue_keys: number }> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    let cursor = '0';
    let keys = 0;
    let jobs = 0;
    const base = `${prefix}:${queue}:`;
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) {
        keys++;
        // A job's hash is <prefix>:<queue>:<job id>; job ids have no colon, BullMQ's own keys are known names.
        const rest = k.slice(base.length);
        if (!rest.includes(':') && !['meta', 'id', 'events', 'stalled-check', 'wait', 'active', 'paused', 'completed', 'failed', 'delayed', 'prioritized', 'marker', 'pc', 'stalled', 'limiter', 'waiting-children', 'repeat'].includes(rest)) jobs++;
      }
    } while (cursor !== '0');
    const events = await r.xlen(`${base}events`).catch(() => 0);
    return { job_hashes_left: jobs, events_stream_len: events, queue_keys: keys };
  } finally {
    r.disconnect();
  }
}
