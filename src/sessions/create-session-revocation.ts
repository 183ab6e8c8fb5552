// The revocation list as the request path sees it: a local index of revoked session ids, IdP session ids
// and per-user cut-offs, loaded at start-up and kept current through the store's feed (Redis pub/sub),
// so checking a session is a few map look-ups and never a round trip. While the shared feed is down for
// longer than `failClosedAfter`, sessions are refused (503) rather than trusted blindly.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { RevocationConfig } from '../config/schema.ts';
import { mergeRecords, recordKey, type RevocationRecord, type RevokedBy } from './revocation-record.ts';
import type { RevocationStore } from './revocation-store.ts';
import { createFileRevocationStore } from './file-revocation-store.ts';
import { createRedisRevocationStore } from './redis-revocation-store.ts';

/** The fields of a session the list matches on. */
export interface RevocableSession {
  readonly id: string;
  readonly sub: string;
  readonly email: string;
  readonly idpSid?: string | undefined;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export interface SessionRevocation {
  /** Resolves once the list is loaded; rejects when it cannot be read (a start-up error). */
  ready(): Promise<void>;
  /** Whether this session was revoked. Throws TG_ERR_REVOCATION_UNAVAILABLE while the list cannot be trusted. */
  isRevoked(session: RevocableSession): boolean;
  revokeSession(session: RevocableSession, made: RevokedBy): Promise<void>;
  /** Every session of this user (by subject and/or e-mail) that started up to now; kept for `lifetimeMs`. */
  revokeUser(user: { sub?: string | undefined; email?: string | undefined }, lifetimeMs: number, made: RevokedBy): Promise<void>;
  /** Every session signed in through this IdP session (the ID token's `sid`); kept for `lifetimeMs`. */
  revokeIdpSession(sid: string, lifetimeMs: number, made: RevokedBy): Promise<void>;
  /** The newest revocations still on the list (those that say when they were made), newest first. */
  recent(limit: number): RevocationRecord[];
  /** Remembers a one-time key (a logout token's jti) until `expiresAtMs`; false when it was seen before. */
  claimOnce(key: string, expiresAtMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const RESYNC_EVERY_MS = 60_000;

export function createSessionRevocation(
  config: RevocationConfig,
  deps: { now: () => number; log: Logger; store?: RevocationStore },
): SessionRevocation {
  const { now, log } = deps;
  const records = new Map<string, RevocationRecord>();
  let loaded = false;
  let closed = false;
  // Undefined while connected (or for a store without a feed); the time the feed went down otherwise.
  let feedDownSinceMs: number | undefined;
  const failClosedAfterMs = config.kind === 'redis' ? config.failClosedAfter : Infinity;

  const apply = (record: RevocationRecord): void => {
    const key = recordKey(record);
    const before = records.get(key);
    records.set(key, before ? mergeRecords(before, record) : record);
  };

  async function resync(): Promise<void> {
    const nowMs = now();
    for (const [key, record] of records) if (record.expiresAtMs <= nowMs) records.delete(key);
    // Records are only ever added (and expire): merging what the store holds keeps feed additions too.
    for (const record of await (await opening).load(nowMs)) apply(record);
  }

  const opening = (async () => {
    const store = deps.store ?? (await openStore(config, deps));
    await store.subscribe({
      added: apply,
      resync: () => void resync().catch((error: unknown) => log.warn({ err: String(error) }, 'session revocation resync failed')),
      connected(up) {
        if (up) feedDownSinceMs = undefined;
        else if (feedDownSinceMs === undefined && !closed) {
          feedDownSinceMs = now();
          log.warn('session revocation feed disconnected');
        }
      },
    });
    return store;
  })();
  const ready = opening.then(async () => {
    await resync();
    loaded = true;
  });
  ready.catch((error: unknown) => log.error({ err: String(error) }, 'session revocation list could not be loaded'));
  const timer = setInterval(() => {
    if (loaded) void resync().catch((error: unknown) => log.warn({ err: String(error) }, 'session revocation resync failed'));
  }, RESYNC_EVERY_MS);
  timer.unref();

  async function add(record: RevocationRecord): Promise<void> {
    await ready;
    await (await opening).add(record);
    apply(record);
  }

  const stamp = (made: RevokedBy) => ({ by: made.by, atMs: now(), ...(made.user === undefined ? {} : { user: made.user }) });

  function cutOff(kind: 'user' | 'email', value: string): number | undefined {
    const record = records.get(`${kind}:${value}`);
    return record && (record.kind === 'user' || record.kind === 'email') && record.expiresAtMs > now() ? record.beforeMs : undefined;
  }

  return {
    ready: () => ready,
    isRevoked(session) {
      if (!loaded) throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', 'Sessions cannot be checked yet. Try again in a moment.');
      if (feedDownSinceMs !== undefined && now() - feedDownSinceMs > failClosedAfterMs) {
        throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', 'Sessions cannot be checked right now (the shared session store is unreachable). Try again in a moment.');
      }
      if (records.has(`session:${session.id}`)) return true;
      if (session.idpSid !== undefined && records.has(`idp-session:${session.idpSid}`)) return true;
      const bySub = cutOff('user', session.sub);
      const byEmail = cutOff('email', session.email.toLowerCase());
      return (bySub !== undefined && session.createdAtMs <= bySub) || (byEmail !== undefined && session.createdAtMs <= byEmail);
    },
    revokeSession: (session, made) => add({ kind: 'session', id: session.id, expiresAtMs: session.expiresAtMs, ...stamp(made) }),
    async revokeUser(user, lifetimeMs, made) {
      const nowMs = now();
      const expiresAtMs = nowMs + lifetimeMs;
      if (user.sub) await add({ kind: 'user', sub: user.sub, beforeMs: nowMs, expiresAtMs, ...stamp(made) });
      if (user.email) await add({ kind: 'email', email: user.email.toLowerCase(), beforeMs: nowMs, expiresAtMs, ...stamp(made) });
    },
    revokeIdpSession: (sid, lifetimeMs, made) => add({ kind: 'idp-session', sid, expiresAtMs: now() + lifetimeMs, ...stamp(made) }),
    recent: (limit) =>
      [...records.values()]
        .filter((record) => record.atMs !== undefined && record.expiresAtMs > now())
        .sort((a, b) => (b.atMs ?? 0) - (a.atMs ?? 0))
        .slice(0, limit),
    async claimOnce(key, expiresAtMs) {
      await ready;
      return (await opening).claimOnce(key, expiresAtMs);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      const opened = await opening.catch(() => undefined);
      await opened?.close();
    },
  };
}

async function openStore(config: RevocationConfig, deps: { now: () => number; log: Logger }): Promise<RevocationStore> {
  if (config.kind === 'file') return createFileRevocationStore({ path: config.path, now: deps.now, log: deps.log });
  const redis = new Redis(config.url, { commandTimeout: 2_000, maxRetriesPerRequest: 1, lazyConnect: true });
  // An unreachable Redis at start-up is a start-up error: connect now, and fail if it does not answer.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (cause) {
    redis.disconnect();
    throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', `The session revocation store at ${config.url.replace(/\/\/[^@]*@/, '//')} cannot be reached.`, { cause });
  }
  return createRedisRevocationStore({ redis, prefix: config.prefix, now: deps.now, quitOnClose: true });
}
