import { CliError } from './cli-error.js';

/**
 * Checks a `--redis` value (a redis:// or rediss:// URL, or several host:port of a Cluster) and returns it; a bad one
 * is a CliError naming `--redis` with the password redacted. Loads the Redis client's module only when called.
 */
export async function redisUrlFlag(text: string): Promise<string> {
  const { redactRedisUrl, redisUrlSchema } = await import('../cluster/queue/redis-connection.js');
  const url = redisUrlSchema.safeParse(text);
  if (!url.success) throw new CliError(`--redis: ${url.error.issues[0]?.message ?? 'not a Redis URL'} (got '${redactRedisUrl(text)}')`);
  return text;
}
