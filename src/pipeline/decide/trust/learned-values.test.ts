// Unit tests of what only the in-memory learned-values store does: LRU eviction of users and lists handed
// out staying unchanged (the shared behaviour is in learned-values-contract.test.ts).
import { expect, test } from 'vitest';
import { createMemoryLearnedValues } from './learned-values.ts';

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
