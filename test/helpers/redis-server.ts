import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  /** `requirepass`: clients must AUTH with it (the URL then carries it). */
  readonly password?: string;
  /** AOF persistence (`appendfsync always`); otherwise no persistence at all (`save ""`). */
  readonly appendonly?: boolean;
  /** Default `noeviction` (what BullMQ requires). */
  readonly maxmemoryPolicy?: string;
  /** Working directory (AOF files); default a fresh temporary folder, removed by `stop()`. */
  readonly dir?: string;
  /** A fixed port (e.g. to restart a server where its clients expect it); default a free one. */
  readonly port?: number;
  /**
   * The server's arguments besides --port, --bind, --dir and --requirepass (e.g. a compose file's command, or
   * cluster mode), instead of those that `appendonly` and `maxmemoryPolicy` give.
   */
  readonly args?: readonly string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` with a password. */
  readonly url: string;
  readonly port: number;
  readonly proc: ChildProcess;
  readonly dir: string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes the folder if the helper made it; idempotent. */
  stop(): Promise<void>;
  /** `INFO section` as key → value. */
  info(section: string): Promise<Record<string, string>>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; closed again, so the caller can bind it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function client(port: number, password: string | undefined): Redis {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, ...(password !== undefined ? { password } : {}) });
  r.on('error', () => {});
  return r;
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

/** Starts redis-server on `port`; resolves once it answers PING, rejects if it exits or takes over 10 s. */
async function launch(port: number, opts: RedisServerOptions, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  if (opts.args) args.push(...opts.args);
  else {
    args.push('--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction', '--save', '');
    args.push(...(opts.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  }
  // The password goes on the command line of a test-only server; it is never printed.
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const t0 = Date.now();
  for (;;) {
    if (exited(proc)) throw new Error(`redis-server on port ${port} exited (${proc.exitCode ?? proc.signalCode}): ${stderr.trim()}`);
    const r = client(port, opts.password);
    try {
      await r.connect();
      // Ours, not another server that took the port in the meantime (ours then exits: "Address already in use").
      if ((await r.ping()) === 'PONG' && new RegExp(`^process_id:${proc.pid}\\r?$`, 'm').test(await r.info('server'))) return proc;
    } catch {
      // not up yet
    } finally {
      r.disconnect();
    }
    if (Date.now() - t0 > 10_000) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * Starts a `redis-server` of the test's own on a free port bound to 127.0.0.1 and waits until it answers PING.
 * Retries on another port if the chosen one was taken in the meantime.
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'migsim-redis-'));
  let proc: ChildProcess | undefined;
  let port = 0;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (opts.port === undefined ? 3 : 1) && !proc; attempt++) {
    port = opts.port ?? (await freePort());
    try {
      proc = await launch(port, opts, dir);
    } catch (e) {
      lastError = e as Error;
    }
  }
  if (!proc) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw lastError ?? new Error('redis-server did not start');
  }
  const p = proc;
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    proc: p,
    dir,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        const done = () => {
          if (ownDir) rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (exited(p)) return done();
        p.once('exit', done);
        p.kill('SIGTERM');
        setTimeout(() => p.kill('SIGKILL'), 5000).unref();
      });
      return stopping;
    },
    async info(section: string) {
      const r = client(port, opts.password);
      try {
        await r.connect();
        const text = await r.info(section);
        const out: Record<string, string> = {};
        for (const line of text.split(/\r?\n/)) {
          const i = line.indexOf(':');
          if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
        }
        return out;
      } finally {
        r.disconnect();
      }
    },
  };
}
