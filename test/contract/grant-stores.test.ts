// Runs the GrantStore contract against the file store and the Redis store (real Redis at TRUSTGATE_TEST_REDIS_URL),
// plus what only one of them does: the file log's replay, torn lines, compaction and durability; Redis keys.
import { randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { createFileGrantStore } from '../../src/break-glass/file-grant-store.ts';
import type { FileGrantStore } from '../../src/break-glass/file-grant-store.ts';
import { createGrant } from '../../src/break-glass/grant.ts';
import { DEFAULT_RETENTION_MS } from '../../src/break-glass/grant-store.ts';
import { createRedisGrantStore, redisGrantKeys } from '../../src/break-glass/redis-grant-store.ts';
import { createTestClock, describeGrantStore, grantInput } from './grant-store.contract.ts';
import type { TestClock } from './grant-store.contract.ts';
import { TEST_REDIS_URL as REDIS_URL } from '../support/test-redis.ts';

const HOUR = 60 * 60 * 1000;

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

describeGrantStore('file', async (clock) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tg-grants-'));
  return {
    open: () => createFileGrantStore({ file: path.join(dir, 'grants.jsonl'), now: clock.now }),
    destroy: () => rm(dir, { recursive: true, force: true }),
  };
}, { sharedInstances: false });

describeGrantStore('redis', async (clock) => {
  const prefix = `tg-test:${randomUUID()}:`;
  return {
    // Every instance gets its own client, as separate replicas would.
    open: async () => createRedisGrantStore({ redis: new Redis(REDIS_URL), prefix, now: clock.now, quitOnClose: true }),
    destroy: async () => {
      const admin = new Redis(REDIS_URL);
      await deleteByPrefix(admin, prefix);
      await admin.quit();
    },
  };
}, { sharedInstances: true });

describe('file grant store specifics', () => {
  let dir: string;
  let file: string;
  let clock: TestClock;
  const stores: FileGrantStore[] = [];

  async function open(options: { compactAfterLines?: number } = {}): Promise<FileGrantStore> {
    const store = await createFileGrantStore({ file, now: clock.now, ...options });
    stores.push(store);
    return store;
  }

  const fileLines = async (): Promise<string[]> => (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tg-grants-'));
    file = path.join(dir, 'grants.jsonl');
    clock = createTestClock();
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('each create is in the file, one JSON event per line, by the time it resolves', async () => {
    const store = await open();
    for (const route of ['payroll', 'billing', 'hr']) {
      const grant = createGrant(grantInput({ route }), clock.ms);
      await store.create(grant);
      const last = JSON.parse((await fileLines()).at(-1) ?? '{}');
      expect(last).toEqual({ type: 'created', grant });
    }
    expect(await fileLines()).toHaveLength(3);
  });

  test('revocation and first use are appended as their own events and replayed after a restart', async () => {
    const first = await open();
    const grant = createGrant(grantInput(), clock.ms);
    await first.create(grant);
    await first.markFirstUse(grant.id, clock.ms + 1);
    await first.revoke(grant.id, 'admin@example.com', clock.ms + 2);
    expect((await fileLines()).map((line) => JSON.parse(line).type)).toEqual(['created', 'first-used', 'revoked']);
    await first.close();
    const second = await open();
    expect(await second.get(grant.id)).toEqual({ ...grant, firstUsedAtMs: clock.ms + 1, revokedAtMs: clock.ms + 2, revokedBy: 'admin@example.com' });
  });

  test('a torn last line is skipped on replay and the next append starts on a clean line', async () => {
    const first = await open();
    const kept = createGrant(grantInput(), clock.ms);
    await first.create(kept);
    await first.close();
    await appendFile(file, '{"type":"created","grant":{"id":"torn-by-a-cra');
    const second = await open();
    expect((await second.list({ limit: 10 }, clock.ms)).map((grant) => grant.id)).toEqual([kept.id]);
    const next = createGrant(grantInput({ route: 'billing' }), clock.ms + 1000);
    await second.create(next);
    await second.close();
    for (const line of await fileLines()) expect(() => JSON.parse(line)).not.toThrow();
    const third = await open();
    expect((await third.list({ limit: 10 }, clock.ms + 1000)).map((grant) => grant.id)).toEqual([next.id, kept.id]);
  });

  test('compaction keeps live grants with their state and drops grants past retention', async () => {
    const store = await open();
    const old = createGrant(grantInput({ route: 'old' }), clock.ms);
    await store.create(old);
    clock.ms += DEFAULT_RETENTION_MS + 2 * HOUR;
    const used = createGrant(grantInput(), clock.ms);
    const revoked = createGrant(grantInput({ route: 'billing' }), clock.ms + 1);
    await store.create(used);
    await store.create(revoked);
    await store.markFirstUse(used.id, clock.ms + 2);
    await store.revoke(revoked.id, 'admin@example.com', clock.ms + 3);
    expect(store.lineCount()).toBe(5);
    const before = await store.list({ limit: 10 }, clock.ms + 3);
    await store.compact();
    expect(store.lineCount()).toBe(2);
    expect((await fileLines()).map((line) => JSON.parse(line).type)).toEqual(['created', 'created']);
    expect(await store.get(old.id)).toBeUndefined();
    await store.close();
    const reopened = await open();
    expect(await reopened.list({ limit: 10 }, clock.ms + 3)).toEqual(before);
    expect(await reopened.markFirstUse(used.id, clock.ms + 4)).toBe(false);
  });

  test('the log compacts on its own once it passes compactAfterLines', async () => {
    const store = await open({ compactAfterLines: 3 });
    const grant = createGrant(grantInput(), clock.ms);
    await store.create(grant);
    await store.markFirstUse(grant.id, clock.ms + 1);
    await store.revoke(grant.id, 'admin@example.com', clock.ms + 2);
    expect(await fileLines()).toHaveLength(3);
    const other = createGrant(grantInput({ route: 'billing' }), clock.ms + 3);
    await store.create(other);
    expect(await fileLines()).toHaveLength(2);
    expect(await store.get(grant.id)).toMatchObject({ firstUsedAtMs: clock.ms + 1, revokedBy: 'admin@example.com' });
  });
});

describe('redis grant store specifics', () => {
  let redis: Redis;
  let prefix: string;
  let clock: TestClock;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    prefix = `tg-test:${randomUUID()}:`;
    clock = createTestClock();
  });

  afterEach(async () => {
    await deleteByPrefix(redis, prefix);
    await redis.quit();
  });

  test('a grant hash expires at expiry + retention and the indexes live at least as long', async () => {
    const store = createRedisGrantStore({ redis, prefix, now: clock.now });
    const grant = createGrant(grantInput(), clock.ms);
    await store.create(grant);
    const keys = redisGrantKeys(prefix);
    const keepUntil = grant.expiresAtMs + DEFAULT_RETENTION_MS;
    expect(await redis.call('PEXPIRETIME', keys.grant(grant.id))).toBe(keepUntil);
    for (const index of [keys.byKey(grant), keys.byUser(grant.user), keys.all]) {
      expect(await redis.call('PEXPIRETIME', index)).toBe(keepUntil);
      expect(await redis.zscore(index, grant.id)).toBe(String(grant.createdAtMs));
    }
  });

  test('revoking or marking an unknown id leaves no stray key behind', async () => {
    const store = createRedisGrantStore({ redis, prefix, now: clock.now });
    expect(await store.revoke('missing-grant-id-0000000', 'admin@example.com', clock.ms)).toBeUndefined();
    expect(await store.markFirstUse('missing-grant-id-0000000', clock.ms)).toBe(false);
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
  });

  test('index entries whose grant has gone are dropped when read', async () => {
    const store = createRedisGrantStore({ redis, prefix, now: clock.now });
    const grant = createGrant(grantInput(), clock.ms);
    await store.create(grant);
    const keys = redisGrantKeys(prefix);
    await redis.del(keys.grant(grant.id));
    expect(await store.findActive(grant, clock.ms)).toBeUndefined();
    expect(await redis.zscore(keys.byKey(grant), grant.id)).toBeNull();
  });

  test('an unreachable Redis surfaces as TG_ERR_STORE_UNAVAILABLE', async () => {
    const down = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const store = createRedisGrantStore({ redis: down, prefix, now: clock.now });
    const error = await store.get('any-grant-id-00000000000').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('TG_ERR_STORE_UNAVAILABLE');
    expect((error as GatewayError).status).toBe(503);
    down.disconnect();
  });
});
