// Learned trust values shared by every gateway replica (Redis lists per user and key), so a value one
// replica saw first counts as known on all of them. Same contract as the in-memory store.
import type { Redis } from 'ioredis';
import type { LearnedValues } from './learned-values.ts';

// Append only when absent, then keep the newest `max`: one atomic step, whichever replica runs it.
const REMEMBER = `
local existing = redis.call('LPOS', KEYS[1], ARGV[1])
if existing then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

export function createRedisLearnedValues(options: { redis: Redis; prefix: string; maxValuesPerKey?: number; retainMs?: number }): LearnedValues {
  const { redis, prefix } = options;
  const max = options.maxValuesPerKey ?? 32;
  const retainMs = options.retainMs ?? 180 * 86_400_000;
  const keyOf = (user: string, key: string): string => `${prefix}${encodeURIComponent(user)}:${encodeURIComponent(key)}`;
  return {
    async get(user, key) {
      return redis.lrange(keyOf(user, key), 0, -1);
    },
    async remember(user, key, value) {
      await redis.eval(REMEMBER, 1, keyOf(user, key), value, String(max), String(retainMs));
    },
  };
}
