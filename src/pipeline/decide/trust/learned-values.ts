// Values learned per user (trust on first use): the store interface scoring reads through, and the
// in-memory implementation (LRU over users). Async so a shared store (Redis) can stand in later.
import { LRUCache } from 'lru-cache';

export interface LearnedValues {
  /** Values remembered for this user under this key, oldest first; empty when none. */
  get(user: string, key: string): Promise<readonly string[]>;
  /** Adds a value (no-op when already known). */
  remember(user: string, key: string, value: string): Promise<void>;
}

export interface MemoryLearnedValuesOptions {
  /** Users kept; the least recently used user's values are forgotten first. */
  maxUsers: number;
  /** Values kept per key; beyond it the oldest is dropped (a long-gone device stops counting). */
  maxValuesPerKey?: number;
}

export function createMemoryLearnedValues(options: MemoryLearnedValuesOptions): LearnedValues {
  const maxValues = options.maxValuesPerKey ?? 32;
  if (!Number.isInteger(options.maxUsers) || options.maxUsers < 1) throw new RangeError('maxUsers must be a positive integer');
  if (!Number.isInteger(maxValues) || maxValues < 1) throw new RangeError('maxValuesPerKey must be a positive integer');
  // Per user: key → frozen list. Lists are replaced, never mutated, so a list handed out stays as it was.
  const users = new LRUCache<string, Map<string, readonly string[]>>({ max: options.maxUsers });

  return {
    async get(user, key) {
      return users.get(user)?.get(key) ?? [];
    },
    async remember(user, key, value) {
      let keys = users.get(user);
      if (keys === undefined) {
        keys = new Map();
        users.set(user, keys);
      }
      const known = keys.get(key) ?? [];
      if (known.includes(value)) return;
      keys.set(key, Object.freeze([...known, value].slice(-maxValues)));
    },
  };
}
