import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { RedisUnreachable } from './errors/redis-unreachable.js';
import { REDIS_CONNECT_TIMEOUT_MS } from './queue-defaults.js';

/** A single Redis or a Redis Cluster client (BullMQ takes either). */
export type RedisClient = Redis | Cluster;

/**
 * A Redis URL: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS, or several `host:port` after the
 * authority for a Redis Cluster's seed nodes: `redis://:pw@10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000`.
 */
export interface ParsedRedisUrl {
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly nodes: readonly { host: string; port: number }[];
  readonly db: number;
}

export function parseRedisUrl(url: string): ParsedRedisUrl {
  const m = /^(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/(\d+))?\/?$/.exec(url);
  if (!m) throw new Error('must be a redis:// or rediss:// URL');
  const nodes = m[4]!.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    const host = i > 0 ? hp.slice(0, i) : hp;
    const port = i > 0 ? Number(hp.slice(i + 1)) : 6379;
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad host:port '${hp}'`);
    return { host: host.replace(/^\[|\]$/g, ''), port };
  });
  return {
    tls: m[1] === 'rediss',
    username: m[2] ? decodeURIComponent(m[2]) : undefined,
    password: m[3] !== undefined ? decodeURIComponent(m[3]) : undefined,
    nodes,
    db: m[5] ? Number(m[5]) : 0,
  };
}

/** A configuration field holding a Redis URL: the message of a URL that `parseRedisUrl` rejects says why. */
export const redisUrlSchema = z.string().superRefine((url, ctx) => {
  try {
    parseRedisUrl(url);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/** A Redis URL with its password replaced, for logs and messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

export interface ConnectionRole {
  /** Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null). */
  readonly blocking: boolean;
  /** Give up connecting after this long (producers fail fast instead of hanging). */
  readonly connectTimeoutMs?: number;
}

const lastErrors = new WeakMap<object, Error>();

/**
 * An ioredis client for a Redis URL (see `parseRedisUrl`): a Cluster client when the URL lists several nodes.
 * Non-blocking clients fail fast when Redis is unreachable; blocking (worker) clients keep retrying with a capped
 * backoff, which also carries them over a Redis restart.
 */
export function createRedis(url: string, role: ConnectionRole): RedisClient {
  const u = parseRedisUrl(url);
  const common: RedisOptions = {
    connectTimeout: role.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS,
    lazyConnect: true,
    ...(u.username !== undefined ? { username: u.username } : {}),
    ...(u.password !== undefined ? { password: u.password } : {}),
    ...(u.tls ? { tls: {} } : {}),
  };
  const retry = (times: number) => Math.min(1000 * 2 ** Math.min(times, 5), 20_000);
  let client: RedisClient;
  if (u.nodes.length > 1) {
    client = new Cluster(u.nodes as ClusterNode[], {
      lazyConnect: true,
      enableOfflineQueue: role.blocking,
      maxRedirections: 16,
      clusterRetryStrategy: retry,
      redisOptions: { ...common, maxRetriesPerRequest: role.blocking ? null : 1 },
    });
  } else {
    client = new Redis({
      ...common,
      host: u.nodes[0]!.host,
      port: u.nodes[0]!.port,
      db: u.db,
      maxRetriesPerRequest: role.blocking ? null : 1,
      enableOfflineQueue: role.blocking,
      retryStrategy: retry,
    });
  }
  // Without a listener ioredis prints every connection error with a stack trace; keep the last one for messages.
  client.on('error', (e: Error) => {
    lastErrors.set(client, e);
  });
  return client;
}

/**
 * Waits until a client that connected once is ready again (it reconnects by itself after a drop), or throws
 * RedisUnreachable after `graceMs`. A BullMQ Worker given a connection that is down at that moment stops with
 * "Connection is closed" and never serves, so services hand over their blocking connection only once it is ready.
 */
export async function untilReady(redis: RedisClient, url: string, graceMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once('ready', onReady);
      timer = setTimeout(() => reject(new RedisUnreachable(redactRedisUrl(url), lastErrors.get(redis)?.message ?? `not back within ${graceMs} ms`)), graceMs);
    });
  } finally {
    if (timer) clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
  }
}

/** Connects, or throws RedisUnreachable naming the (redacted) URL within the connect timeout. */
export async function connectOrThrow(redis: RedisClient, url: string, timeoutMs: number = REDIS_CONNECT_TIMEOUT_MS): Promise<void> {
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
    throw new RedisUnreachable(redactRedisUrl(url), cause);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
