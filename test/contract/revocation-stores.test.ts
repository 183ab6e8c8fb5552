// Runs the session revocation contract against the file store and the Redis store (real Redis at
// TRUSTGATE_TEST_REDIS_URL): durability across a restart, expiry, one-time claims (logout-token jti), and the
// local index on top (session, IdP session, per-user cut-off). Then what only one of them does: the
// file log refuses unreadable lines; Redis replicas see each other's revocations through pub/sub and
// refuse sessions (fail closed) while the feed is down.
import { randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { createFileRevocationStore } from '../../src/sessions/file-revocation-store.ts';
import { createRedisRevocationStore } from '../../src/sessions/redis-revocation-store.ts';
import type { RevocationStore } from '../../src/sessions/revocation-store.ts';
import { createSessionRevocation, type RevocableSession, type SessionRevocation } from '../../src/sessions/create-session-revocation.ts';
import { createTestClock, type TestClock } from './grant-store.contract.ts';
import { TEST_REDIS_URL as REDIS_URL, testRedisAddress } from '../support/test-redis.ts';

const HOUR = 3600_000;
const BY = { by: 'test' };
const log = pino({ level: 'silent' });

interface Backend {
  /** A new instance on the same storage (a restart, or another replica for Redis). */
  open(): Promise<RevocationStore>;
  config: Parameters<typeof createSessionRevocation>[0];
  destroy(): Promise<void>;
}

const backends: Array<[string, (clock: TestClock) => Promise<Backend>]> = [
  [
    'file',
    async (clock) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'tg-revocations-'));
      const file = path.join(dir, 'revocations.jsonl');
      return { open: () => createFileRevocationStore({ path: file, now: clock.now }), config: { kind: 'file', path: file }, destroy: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'redis',
    async (clock) => {
      const prefix = `tg-test:${randomUUID()}:`;
      return {
        open: async () => createRedisRevocationStore({ redis: new Redis(REDIS_URL), prefix, now: clock.now, quitOnClose: true }),
        config: { kind: 'redis', url: REDIS_URL, prefix, failClosedAfter: 30_000 },
        destroy: async () => {
          const admin = new Redis(REDIS_URL);
          const keys = await admin.keys(`${prefix}*`);
          if (keys.length > 0) await admin.del(...keys);
          await admin.quit();
        },
      };
    },
  ],
];

function session(overrides: Partial<RevocableSession> = {}): RevocableSession {
  return { id: randomUUID(), sub: 'alice', email: 'alice@example.com', idpSid: randomUUID(), createdAtMs: Date.now() - 1000, expiresAtMs: Date.now() + HOUR, ...overrides };
}

describe.each(backends)('revocation store contract: %s', (_name, make) => {
  const opened: Array<{ close(): Promise<void> }> = [];
  let backend: Backend | undefined;
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await backend?.destroy();
  });
  async function setup(clock = createTestClock()): Promise<{ clock: TestClock; open: () => Promise<RevocationStore>; revocation: (store?: RevocationStore) => Promise<SessionRevocation> }> {
    backend = await make(clock);
    const b = backend;
    const open = async () => {
      const store = await b.open();
      opened.push(store);
      return store;
    };
    const revocation = async (store?: RevocationStore) => {
      const r = createSessionRevocation(b.config, { now: clock.now, log, store: store ?? (await open()) });
      opened.push(r);
      await r.ready();
      return r;
    };
    return { clock, open, revocation };
  }

  test('records are durable: a new instance on the same storage loads them', async () => {
    const { clock, open } = await setup();
    const first = await open();
    await first.add({ kind: 'session', id: 's-1', expiresAtMs: clock.ms + HOUR });
    await first.add({ kind: 'user', sub: 'bob', beforeMs: clock.ms, expiresAtMs: clock.ms + HOUR });
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const second = await open();
    const loaded = await second.load(clock.ms);
    expect(loaded).toEqual(expect.arrayContaining([{ kind: 'session', id: 's-1', expiresAtMs: clock.ms + HOUR }, { kind: 'user', sub: 'bob', beforeMs: clock.ms, expiresAtMs: clock.ms + HOUR }]));
    expect(loaded).toHaveLength(2);
  });

  test('expired records are not loaded', async () => {
    const { clock, open } = await setup();
    const store = await open();
    await store.add({ kind: 'session', id: 'short', expiresAtMs: clock.ms + 1000 });
    await store.add({ kind: 'session', id: 'long', expiresAtMs: clock.ms + HOUR });
    clock.ms += 2000;
    expect((await store.load(clock.ms)).map((r) => (r.kind === 'session' ? r.id : r.kind))).toEqual(['long']);
  });

  test('claimOnce is true exactly once per key, also across instances', async () => {
    const { clock, open } = await setup();
    const a = await open();
    expect(await a.claimOnce('jti:one', clock.ms + HOUR)).toBe(true);
    expect(await a.claimOnce('jti:one', clock.ms + HOUR)).toBe(false);
    expect(await a.claimOnce('jti:two', clock.ms + HOUR)).toBe(true);
    await a.close();
    opened.splice(opened.indexOf(a), 1);
    const b = await open();
    expect(await b.claimOnce('jti:one', clock.ms + HOUR)).toBe(false);
  });

  test('the local index: one session, one IdP session, and a per-user cut-off by sub and by e-mail', async () => {
    const { clock, revocation } = await setup();
    const list = await revocation();
    const mine = session();
    const other = session();
    await list.revokeSession(mine, BY);
    expect(list.isRevoked(mine)).toBe(true);
    expect(list.isRevoked({ ...mine, id: 'another-id' })).toBe(false);
    expect(list.isRevoked(other)).toBe(false);

    const viaIdp = session({ sub: 'carol', email: 'carol@example.com' });
    await list.revokeIdpSession(viaIdp.idpSid as string, HOUR, BY);
    expect(list.isRevoked(viaIdp)).toBe(true);
    expect(list.isRevoked({ ...viaIdp, idpSid: 'other-sid' })).toBe(false);

    const bobBefore = session({ sub: 'bob', email: 'bob@example.com', createdAtMs: clock.ms - 10 });
    await list.revokeUser({ sub: 'bob' }, HOUR, BY);
    expect(list.isRevoked(bobBefore)).toBe(true);
    expect(list.isRevoked({ ...bobBefore, createdAtMs: clock.ms + 1 })).toBe(false);
    expect(list.isRevoked({ ...bobBefore, sub: 'not-bob', email: 'x@example.com' })).toBe(false);

    await list.revokeUser({ email: 'Dave@Example.com' }, HOUR, BY);
    expect(list.isRevoked(session({ sub: 'dave-sub', email: 'dave@example.com', createdAtMs: clock.ms - 5 }))).toBe(true);
  });

  test('a restart keeps every revocation (index rebuilt from the store)', async () => {
    const { revocation, open } = await setup();
    const s = session();
    const first = await revocation();
    await first.revokeSession(s, BY);
    await first.revokeUser({ sub: 'erin' }, HOUR, BY);
    await first.close();
    const again = await revocation(await open());
    expect(again.isRevoked(s)).toBe(true);
    expect(again.isRevoked(session({ sub: 'erin', createdAtMs: Date.now() - HOUR }))).toBe(true);
  });
});

describe('file revocation store specifics', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test.each([
    ['invalid JSON', 'not json\n'],
    ['an unknown record shape', '{"type":"revoked","record":{"kind":"session"}}\n'],
  ])('a line with %s is a start-up error, not a forgotten revocation', async (_name, line) => {
    dir = await mkdtemp(path.join(tmpdir(), 'tg-revocations-'));
    const file = path.join(dir, 'r.jsonl');
    await writeFile(file, `{"type":"revoked","record":{"kind":"session","id":"ok","expiresAtMs":${Date.now() + HOUR}}}\n${line}`);
    await expect(createFileRevocationStore({ path: file, now: Date.now })).rejects.toMatchObject({ code: 'TG_ERR_REVOCATION_UNAVAILABLE' });
  });

  test('a torn last line (crash mid-append) is dropped; start-up compacts away expired records', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tg-revocations-'));
    const file = path.join(dir, 'r.jsonl');
    const clock = createTestClock();
    const store = await createFileRevocationStore({ path: file, now: clock.now });
    await store.add({ kind: 'session', id: 'gone-soon', expiresAtMs: clock.ms + 1000 });
    await store.add({ kind: 'session', id: 'kept', expiresAtMs: clock.ms + HOUR });
    await store.close();
    await appendFile(file, '{"type":"revoked","rec');
    clock.ms += 5000;
    const reopened = await createFileRevocationStore({ path: file, now: clock.now });
    expect((await reopened.load(clock.ms)).map((r) => (r.kind === 'session' ? r.id : ''))).toEqual(['kept']);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
    await reopened.close();
  });

  test('a revocation file that cannot be opened is a start-up error', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tg-revocations-'));
    // A directory where the file should be.
    await expect(createFileRevocationStore({ path: dir, now: Date.now })).rejects.toMatchObject({ code: 'TG_ERR_REVOCATION_UNAVAILABLE' });
  });
});

describe('redis revocation specifics', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  test('a replica sees another replica’s revocation through pub/sub, without a restart', async () => {
    const prefix = `tg-test:${randomUUID()}:`;
    const config = { kind: 'redis' as const, url: REDIS_URL, prefix, failClosedAfter: 30_000 };
    const a = createSessionRevocation(config, { now: Date.now, log });
    const b = createSessionRevocation(config, { now: Date.now, log });
    cleanup.push(() => a.close(), () => b.close());
    await Promise.all([a.ready(), b.ready()]);
    const s = session();
    expect(b.isRevoked(s)).toBe(false);
    await a.revokeSession(s, BY);
    await expect.poll(() => b.isRevoked(s)).toBe(true);
  });

  test('an unreachable Redis at start-up is a start-up error', async () => {
    const r = createSessionRevocation({ kind: 'redis', url: 'redis://127.0.0.1:1', prefix: 'x:', failClosedAfter: 1000 }, { now: Date.now, log });
    cleanup.push(() => r.close());
    await expect(r.ready()).rejects.toMatchObject({ code: 'TG_ERR_REVOCATION_UNAVAILABLE' });
    expect(() => r.isRevoked(session())).toThrow(/cannot be checked/);
  });

  test('while the feed is down past failClosedAfter, sessions are refused; they are checked again once it is back', async () => {
    // A TCP relay to Redis that the test can cut, as a network partition would.
    const sockets = new Set<net.Socket>();
    let open = true;
    const relay = net.createServer((client) => {
      if (!open) return client.destroy();
      const upstream = net.connect(testRedisAddress().port, testRedisAddress().host);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
    const port = (relay.address() as net.AddressInfo).port;
    const prefix = `tg-test:${randomUUID()}:`;
    const r = createSessionRevocation({ kind: 'redis', url: `redis://127.0.0.1:${port}`, prefix, failClosedAfter: 0 }, { now: Date.now, log });
    cleanup.push(() => r.close());
    await r.ready();
    const s = session();
    expect(r.isRevoked(s)).toBe(false);

    open = false;
    for (const socket of sockets) socket.destroy();
    // A replica revokes the session meanwhile, straight in Redis: this one cannot hear about it.
    const other = createSessionRevocation({ kind: 'redis', url: REDIS_URL, prefix, failClosedAfter: 0 }, { now: Date.now, log });
    cleanup.push(() => other.close());
    await other.ready();
    await other.revokeSession(s, BY);
    await expect.poll(() => {
      try {
        r.isRevoked(s);
        return 'answered';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    }).toBe('TG_ERR_REVOCATION_UNAVAILABLE');

    open = true;
    // Back online: the missed revocation is loaded on reconnect (resync), not lost.
    await expect.poll(() => {
      try {
        return r.isRevoked(s);
      } catch {
        return 'down';
      }
    }, { timeout: 10_000 }).toBe(true);
  });
});
