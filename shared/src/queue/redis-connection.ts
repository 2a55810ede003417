import { Redis, type RedisOptions } from 'ioredis';

/** A Redis URL with its password replaced, for logs and messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable Redis URL>';
  }
}

export interface ConnectionRole {
  /** Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null). */
  readonly blocking: boolean;
  /** Give up connecting after this long (producers fail fast instead of hanging). */
  readonly connectTimeoutMs?: number;
}

/**
 * An ioredis client for a `redis://` or `rediss://` URL (user and password in the URL). Producers fail fast when
 * Redis is unreachable; blocking (worker) connections keep retrying with a capped backoff.
 */
export function createRedis(url: string, role: ConnectionRole): Redis {
  const opts: RedisOptions = {
    maxRetriesPerRequest: role.blocking ? null : 1,
    enableOfflineQueue: role.blocking,
    connectTimeout: role.connectTimeoutMs ?? 5000,
    retryStrategy: (times) => Math.min(1000 * 2 ** Math.min(times, 5), 20_000),
    lazyConnect: true,
  };
  const redis = new Redis(url, opts);
  // Without a listener ioredis prints every connection error with a stack trace; keep the last one for messages.
  redis.on('error', (e: Error) => {
    lastErrors.set(redis, e);
  });
  return redis;
}

const lastErrors = new WeakMap<Redis, Error>();

/** Connects, or throws a short error naming the (redacted) URL within the connect timeout. */
export async function connectOrThrow(redis: Redis, url: string, timeoutMs: number = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const cause = lastErrors.get(redis)?.message ?? (e as Error).message;
    throw new Error(`cannot reach Redis at ${redactRedisUrl(url)}: ${cause}`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
