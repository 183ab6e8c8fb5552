// The Redis the tests use: one address for every test, from TRUSTGATE_TEST_REDIS_URL (default
// redis://127.0.0.1:6379), and a probe that answers within seconds whether it is there — ioredis on its
// own retries forever, which turned a missing Redis into a run that hung until the CI timeout.
import { Redis } from 'ioredis';

export const TEST_REDIS_ENV = 'TRUSTGATE_TEST_REDIS_URL';
export const TEST_REDIS_URL = process.env[TEST_REDIS_ENV] || 'redis://127.0.0.1:6379';

/** Host and port of the test Redis (for tests that put a TCP proxy in front of it). */
export function testRedisAddress(): { host: string; port: number } {
  const url = new URL(TEST_REDIS_URL);
  return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || 6379) };
}

/** Resolves when the test Redis answers PING; rejects within about `timeoutMs` with a message saying how to start one. */
export async function probeTestRedis(timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: timeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const cause = lastError ?? error;
    throw new Error(
      `The tests need Redis at ${TEST_REDIS_URL} and it does not answer (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Start one (e.g. \`redis-server --port 6379 --save '' --daemonize yes\` or \`docker run --rm -d -p 6379:6379 redis:7\`), ` +
        `or point ${TEST_REDIS_ENV} at one (redis://host:port).`,
    );
  } finally {
    redis.disconnect();
  }
}
