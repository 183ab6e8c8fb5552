// Contract suite every GrantStore must pass; grant-stores.test.ts runs it against the file and the Redis
// store. Each test gets a fresh backing (temp file or Redis prefix) and an injected clock.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createGrant, isActive } from '../../src/break-glass/grant.ts';
import type { Grant, NewGrantInput } from '../../src/break-glass/grant.ts';
import type { GrantStore } from '../../src/break-glass/grant-store.ts';

export interface TestClock {
  ms: number;
  now: () => number;
}

export interface GrantStoreHarness {
  /** A new store instance over this harness's backing (same file or same Redis prefix). */
  open(): Promise<GrantStore>;
  /** Closes nothing: removes the backing (temp dir, Redis keys). */
  destroy(): Promise<void>;
}

export type GrantStoreFactory = (clock: TestClock) => Promise<GrantStoreHarness>;

const HOUR = 60 * 60 * 1000;

// Redis TTLs run on Redis's wall clock, so the injected clock starts at the real time and only moves
// forward by hours: expiry decisions use the injected clock, retention TTLs stay in the future.
export function createTestClock(): TestClock {
  const clock: TestClock = { ms: Math.floor(Date.now() / 1000) * 1000, now: () => clock.ms };
  return clock;
}

export function grantInput(overrides: Partial<NewGrantInput> = {}): NewGrantInput {
  return {
    user: 'alice@example.com',
    sub: 'sub-alice',
    deviceKey: 'host-uuid-A',
    route: 'payroll',
    reason: 'Payroll run blocked by a failing disk-encryption check',
    durationMs: HOUR,
    requestId: 'req-1',
    sourceAddress: '198.51.100.7',
    ...overrides,
  };
}

export interface ContractOptions {
  /** Whether two instances may be open over one backing at once (Redis: yes; file: no, single process). */
  sharedInstances: boolean;
}

export function describeGrantStore(name: string, factory: GrantStoreFactory, options: ContractOptions): void {
  describe(`GrantStore contract: ${name}`, () => {
    let clock: TestClock;
    let harness: GrantStoreHarness;
    let opened: GrantStore[];
    let store: GrantStore;

    async function open(): Promise<GrantStore> {
      const instance = await harness.open();
      opened.push(instance);
      return instance;
    }

    /** Creates a grant at the current clock time, then moves the clock on so creation times differ. */
    async function add(overrides: Partial<NewGrantInput> = {}, target: GrantStore = store): Promise<Grant> {
      const grant = createGrant(grantInput(overrides), clock.ms);
      await target.create(grant);
      clock.ms += 1000;
      return grant;
    }

    /** Closes the current instance and opens a fresh one over the same backing. */
    async function restart(): Promise<GrantStore> {
      await store.close();
      opened = opened.filter((instance) => instance !== store);
      store = await open();
      return store;
    }

    beforeEach(async () => {
      clock = createTestClock();
      harness = await factory(clock);
      opened = [];
      store = await open();
    });

    afterEach(async () => {
      for (const instance of opened) await instance.close();
      await harness.destroy();
    });

    test('create then get returns the same grant; unknown ids are undefined', async () => {
      const grant = await add();
      expect(grant.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(await store.get(grant.id)).toEqual(grant);
      expect(await store.get('no-such-grant-id-000000')).toBeUndefined();
    });

    test('creating an existing id is refused and keeps the original', async () => {
      const grant = await add();
      await expect(store.create({ ...grant, reason: 'overwrite attempt' })).rejects.toThrow(/already exists/);
      expect((await store.get(grant.id))?.reason).toBe(grant.reason);
    });

    test('findActive returns the newest active grant for the exact triple only', async () => {
      const older = await add();
      const newer = await add();
      const otherRoute = await add({ route: 'billing' });
      await add({ deviceKey: 'host-uuid-B' });
      await add({ user: 'bob@example.com' });
      const key = { user: 'alice@example.com', deviceKey: 'host-uuid-A', route: 'payroll' };
      expect((await store.findActive(key, clock.ms))?.id).toBe(newer.id);
      expect((await store.findActive({ ...key, route: 'billing' }, clock.ms))?.id).toBe(otherRoute.id);
      expect(await store.findActive({ ...key, route: 'hr' }, clock.ms)).toBeUndefined();
      expect(await store.findActive({ ...key, user: 'ALICE@example.com' }, clock.ms)).toBeUndefined();
      await store.revoke(newer.id, 'admin@example.com', clock.ms);
      expect((await store.findActive(key, clock.ms))?.id).toBe(older.id);
    });

    test('a grant stops being active at its expiry instant (injected clock)', async () => {
      const grant = await add({ durationMs: HOUR });
      const key = { user: grant.user, deviceKey: grant.deviceKey, route: grant.route };
      expect((await store.findActive(key, grant.expiresAtMs - 1))?.id).toBe(grant.id);
      expect(await store.findActive(key, grant.expiresAtMs)).toBeUndefined();
      clock.ms = grant.expiresAtMs + HOUR;
      const stored = await store.get(grant.id);
      expect(stored?.id).toBe(grant.id);
      expect(isActive(stored as Grant, clock.ms)).toBe(false);
    });

    test('revoke ends the grant, records who and when, and a second revoke keeps the first', async () => {
      const grant = await add();
      const key = { user: grant.user, deviceKey: grant.deviceKey, route: grant.route };
      const revokedAt = clock.ms;
      const revoked = await store.revoke(grant.id, 'admin@example.com', revokedAt);
      expect(revoked).toMatchObject({ id: grant.id, revokedAtMs: revokedAt, revokedBy: 'admin@example.com' });
      expect(await store.findActive(key, clock.ms)).toBeUndefined();
      const again = await store.revoke(grant.id, 'someone-else@example.com', revokedAt + 5000);
      expect(again).toMatchObject({ revokedAtMs: revokedAt, revokedBy: 'admin@example.com' });
      expect(await store.get(grant.id)).toMatchObject({ revokedAtMs: revokedAt, revokedBy: 'admin@example.com' });
      expect(await store.revoke('no-such-grant-id-000000', 'admin@example.com', clock.ms)).toBeUndefined();
      expect(await store.get('no-such-grant-id-000000')).toBeUndefined();
    });

    test('markFirstUse is true exactly once, also for concurrent callers', async () => {
      const grant = await add();
      const results = await Promise.all([1, 2, 3, 4, 5].map((offset) => store.markFirstUse(grant.id, clock.ms + offset)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.markFirstUse(grant.id, clock.ms + 10)).toBe(false);
      const firstUsedAtMs = (await store.get(grant.id))?.firstUsedAtMs;
      expect(firstUsedAtMs).toBe(clock.ms + 1 + results.indexOf(true));
      expect(await store.markFirstUse('no-such-grant-id-000000', clock.ms)).toBe(false);
    });

    // Only for backings several replicas share: two file stores over one file are unsupported by design.
    if (options.sharedInstances) {
      test('markFirstUse has one winner across two instances over one backing', async () => {
        const other = await open();
        const grant = await add();
        const results = await Promise.all([store, other, store, other].map((instance) => instance.markFirstUse(grant.id, clock.ms)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await other.markFirstUse(grant.id, clock.ms)).toBe(false);
      });

      test('a revocation by one instance is seen by another on its next read', async () => {
        const other = await open();
        const grant = await add();
        const key = { user: grant.user, deviceKey: grant.deviceKey, route: grant.route };
        expect((await other.findActive(key, clock.ms))?.id).toBe(grant.id);
        await store.revoke(grant.id, 'admin@example.com', clock.ms);
        expect(await other.findActive(key, clock.ms)).toBeUndefined();
      });
    }

    test('countCreatedSince counts one user\'s grants from a time on, revoked and expired included', async () => {
      const first = await add();
      clock.ms += 2 * HOUR;
      const second = await add({ route: 'billing' });
      await add({ deviceKey: 'host-uuid-B' });
      await add({ user: 'bob@example.com' });
      await store.revoke(second.id, 'admin@example.com', clock.ms);
      expect(await store.countCreatedSince('alice@example.com', first.createdAtMs)).toBe(3);
      expect(await store.countCreatedSince('alice@example.com', first.createdAtMs + 1)).toBe(2);
      expect(await store.countCreatedSince('alice@example.com', second.createdAtMs)).toBe(2);
      expect(await store.countCreatedSince('bob@example.com', first.createdAtMs)).toBe(1);
      expect(await store.countCreatedSince('carol@example.com', 0)).toBe(0);
    });

    test('list is newest first, honours limit, and activeOnly drops revoked and expired grants', async () => {
      const short = await add({ durationMs: 5000 });
      const revoked = await add({ route: 'billing' });
      const live = await add({ user: 'bob@example.com' });
      const newest = await add({ route: 'hr' });
      await store.revoke(revoked.id, 'admin@example.com', clock.ms);
      clock.ms = short.expiresAtMs + 1;
      expect((await store.list({ limit: 10 }, clock.ms)).map((grant) => grant.id)).toEqual([newest.id, live.id, revoked.id, short.id]);
      expect((await store.list({ limit: 2 }, clock.ms)).map((grant) => grant.id)).toEqual([newest.id, live.id]);
      expect((await store.list({ limit: 10, activeOnly: true }, clock.ms)).map((grant) => grant.id)).toEqual([newest.id, live.id]);
      expect((await store.list({ limit: 1, activeOnly: true }, clock.ms)).map((grant) => grant.id)).toEqual([newest.id]);
    });

    test('a new instance over the same backing sees the same grants and state', async () => {
      const used = await add();
      const revoked = await add({ route: 'billing' });
      expect(await store.markFirstUse(used.id, clock.ms)).toBe(true);
      await store.revoke(revoked.id, 'admin@example.com', clock.ms);
      const expected = [await store.get(revoked.id), await store.get(used.id)];
      const fresh = await restart();
      expect(await fresh.list({ limit: 10 }, clock.ms)).toEqual(expected);
      expect(await fresh.markFirstUse(used.id, clock.ms)).toBe(false);
      expect((await fresh.findActive({ user: used.user, deviceKey: used.deviceKey, route: used.route }, clock.ms))?.id).toBe(used.id);
      expect(await fresh.countCreatedSince('alice@example.com', 0)).toBe(2);
    });
  });
}
