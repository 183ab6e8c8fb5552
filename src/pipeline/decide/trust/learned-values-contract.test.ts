// One contract for every learned-values store: the in-memory one and the shared Redis one (real Redis).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { createMemoryLearnedValues, type LearnedValues } from './learned-values.ts';
import { createRedisLearnedValues } from './redis-learned-values.ts';
import { TEST_REDIS_URL } from '../../../../test/support/test-redis.ts';

const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
const prefix = `trustgate-test:learned:${randomUUID()}:`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const stores: Array<[string, () => LearnedValues]> = [
  ['memory', () => createMemoryLearnedValues({ maxUsers: 10, maxValuesPerKey: 3 })],
  ['redis', () => createRedisLearnedValues({ redis, prefix: `${prefix}${randomUUID()}:`, maxValuesPerKey: 3 })],
];

describe.each(stores)('learned values (%s)', (_name, create) => {
  test('a value is remembered once, per user and key, oldest first', async () => {
    const store = create();
    expect(await store.get('alice@example.com', 'system_info.uuid')).toEqual([]);
    await store.remember('alice@example.com', 'system_info.uuid', 'A');
    await store.remember('alice@example.com', 'system_info.uuid', 'A');
    await store.remember('alice@example.com', 'system_info.uuid', 'B');
    expect(await store.get('alice@example.com', 'system_info.uuid')).toEqual(['A', 'B']);
    expect(await store.get('bob@example.com', 'system_info.uuid')).toEqual([]);
    expect(await store.get('alice@example.com', 'browser')).toEqual([]);
  });

  test('beyond the cap the oldest value is dropped', async () => {
    const store = create();
    for (const value of ['1', '2', '3', '4']) await store.remember('carol@example.com', 'browser', value);
    expect(await store.get('carol@example.com', 'browser')).toEqual(['2', '3', '4']);
  });
});

test('replicas sharing Redis see each other’s learned values', async () => {
  const shared = `${prefix}shared:`;
  const a = createRedisLearnedValues({ redis, prefix: shared });
  const b = createRedisLearnedValues({ redis, prefix: shared });
  await a.remember('dave@example.com', 'browser', 'chrome/124|macos');
  expect(await b.get('dave@example.com', 'browser')).toEqual(['chrome/124|macos']);
});
