// Unit tests of the in-memory learned-values store: per user and key, no duplicates, the per-key cap,
// LRU eviction of users, and lists handed out staying unchanged.
import { expect, test } from 'vitest';
import { createMemoryLearnedValues } from './learned-values.ts';

test('remembers values per user and key, each once, oldest first', async () => {
  const store = createMemoryLearnedValues({ maxUsers: 10 });
  expect(await store.get('alice', 'system_info.uuid')).toEqual([]);
  await store.remember('alice', 'system_info.uuid', 'HOST-1');
  await store.remember('alice', 'system_info.uuid', 'HOST-1');
  await store.remember('alice', 'system_info.uuid', 'HOST-2');
  expect(await store.get('alice', 'system_info.uuid')).toEqual(['HOST-1', 'HOST-2']);
  expect(await store.get('alice', 'browser')).toEqual([]);
  expect(await store.get('bob', 'system_info.uuid')).toEqual([]);
});

test('keeps at most maxValuesPerKey values, dropping the oldest', async () => {
  const store = createMemoryLearnedValues({ maxUsers: 10, maxValuesPerKey: 2 });
  for (const v of ['a', 'b', 'c']) await store.remember('alice', 'k', v);
  expect(await store.get('alice', 'k')).toEqual(['b', 'c']);
});

test('forgets the least recently used user beyond maxUsers', async () => {
  const store = createMemoryLearnedValues({ maxUsers: 2 });
  await store.remember('alice', 'k', 'a');
  await store.remember('bob', 'k', 'b');
  await store.get('alice', 'k'); // alice is now the most recent
  await store.remember('carol', 'k', 'c');
  expect(await store.get('bob', 'k')).toEqual([]);
  expect(await store.get('alice', 'k')).toEqual(['a']);
  expect(await store.get('carol', 'k')).toEqual(['c']);
});

test('a list handed out does not change when more is remembered', async () => {
  const store = createMemoryLearnedValues({ maxUsers: 2 });
  await store.remember('alice', 'k', 'a');
  const before = await store.get('alice', 'k');
  await store.remember('alice', 'k', 'b');
  expect(before).toEqual(['a']);
  expect(Object.isFrozen(before)).toBe(true);
});

test('rejects nonsensical limits', () => {
  expect(() => createMemoryLearnedValues({ maxUsers: 0 })).toThrow(RangeError);
  expect(() => createMemoryLearnedValues({ maxUsers: 1, maxValuesPerKey: 0 })).toThrow(RangeError);
});
