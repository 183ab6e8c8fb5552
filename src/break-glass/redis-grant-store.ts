// The shared grant store for several gateway replicas: grants live in Redis (no local cache, so a
// revocation is seen by every replica on its next read), and first use is claimed atomically there.
import type { Redis } from 'ioredis';
import { GatewayError } from '../errors.ts';
import { cleanGrant, grantSchema, isActive, matchesKey, newestFirst } from './grant.ts';
import type { Grant, GrantKey } from './grant.ts';
import { DEFAULT_RETENTION_MS, guardStore } from './grant-store.ts';
import type { GrantStore, ListOptions } from './grant-store.ts';
import { REDIS_SCRIPTS } from './redis-grant-scripts.ts';

export interface RedisGrantStoreDeps {
  redis: Redis;
  /** Namespaces every key, e.g. `trustgate:bg:`; on Redis Cluster use a hash tag (`{trustgate-bg}:`). */
  prefix: string;
  now: () => number;
  /** How long after expiry a grant (revoked or not) stays readable for audits and the admin list (default 7 days). */
  retentionMs?: number;
  /** Whether close() also quits the client (default false: the caller owns it). */
  quitOnClose?: boolean;
}

/** Index sets are read in pages; a triple or a user rarely has more grants than this inside retention. */
const PAGE = 100;

export function redisGrantKeys(prefix: string) {
  const part = (value: string): string => encodeURIComponent(value);
  return {
    grant: (id: string) => `${prefix}grant:${id}`,
    byKey: (key: GrantKey) => `${prefix}by-key:${part(key.user)}:${part(key.deviceKey)}:${part(key.route)}`,
    byUser: (user: string) => `${prefix}by-user:${part(user)}`,
    all: `${prefix}all`,
  };
}

/** Turns HGETALL's fields (`grant` JSON, `revoked` JSON, `firstUsedAtMs`) back into one Grant. */
function parseGrantHash(fields: Record<string, string>): Grant | undefined {
  if (fields.grant === undefined) return undefined;
  const base = grantSchema.parse(JSON.parse(fields.grant));
  const grant: Grant = cleanGrant(base);
  if (fields.revoked !== undefined) {
    const revoked = JSON.parse(fields.revoked) as { atMs: number; by: string };
    grant.revokedAtMs = revoked.atMs;
    grant.revokedBy = revoked.by;
  }
  if (fields.firstUsedAtMs !== undefined) grant.firstUsedAtMs = Number(fields.firstUsedAtMs);
  return grant;
}

/** A Lua reply from HGETALL is a flat [field, value, ...] list. */
function pairsToRecord(reply: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!Array.isArray(reply)) return record;
  for (let index = 0; index + 1 < reply.length; index += 2) record[String(reply[index])] = String(reply[index + 1]);
  return record;
}

export function createRedisGrantStore(deps: RedisGrantStoreDeps): GrantStore {
  const { redis } = deps;
  const retentionMs = deps.retentionMs ?? DEFAULT_RETENTION_MS;
  const keys = redisGrantKeys(deps.prefix);

  /** Reads grants in the ids' order; ids whose hash has expired are dropped from `index` on the way. */
  async function readMany(ids: string[], index?: string): Promise<Grant[]> {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.grant(id));
    const replies = (await pipeline.exec()) ?? [];
    const grants: Grant[] = [];
    const gone: string[] = [];
    replies.forEach(([error, reply], position) => {
      if (error) throw error;
      const grant = parseGrantHash(reply as Record<string, string>);
      if (grant) grants.push(grant);
      else gone.push(ids[position] as string);
    });
    if (index && gone.length > 0) await redis.zrem(index, ...gone);
    return grants;
  }

  async function create(grant: Grant): Promise<void> {
    const { revokedAtMs, revokedBy, firstUsedAtMs, ...base } = cleanGrant(grant);
    const created = await redis.eval(
      REDIS_SCRIPTS.create,
      4,
      keys.grant(grant.id),
      keys.byKey(grant),
      keys.byUser(grant.user),
      keys.all,
      JSON.stringify(base),
      grant.createdAtMs,
      grant.id,
      grant.expiresAtMs + retentionMs,
      deps.now() - retentionMs,
      keys.grant(''),
      revokedAtMs === undefined ? '' : JSON.stringify({ atMs: revokedAtMs, by: revokedBy ?? '' }),
      firstUsedAtMs === undefined ? '' : String(firstUsedAtMs),
    );
    if (created !== 1) throw new GatewayError('TG_ERR_INTERNAL', `Grant id ${grant.id} already exists`);
  }

  async function findActive(key: GrantKey, nowMs: number): Promise<Grant | undefined> {
    const index = keys.byKey(key);
    const ids = await redis.zrevrange(index, 0, PAGE - 1);
    const grants = await readMany(ids, index);
    return grants.filter((grant) => matchesKey(grant, key) && isActive(grant, nowMs)).sort(newestFirst)[0];
  }

  async function list(options: ListOptions, nowMs: number): Promise<Grant[]> {
    const found: Grant[] = [];
    for (let start = 0; found.length < options.limit; start += PAGE) {
      const ids = await redis.zrevrange(keys.all, start, start + PAGE - 1);
      const grants = await readMany(ids);
      found.push(...grants.filter((grant) => nowMs < grant.expiresAtMs + retentionMs && (!options.activeOnly || isActive(grant, nowMs))));
      if (ids.length < PAGE) break;
    }
    return found.sort(newestFirst).slice(0, options.limit);
  }

  async function revoke(id: string, by: string, nowMs: number): Promise<Grant | undefined> {
    const reply = await redis.eval(REDIS_SCRIPTS.revoke, 1, keys.grant(id), JSON.stringify({ atMs: nowMs, by }));
    return reply === null ? undefined : parseGrantHash(pairsToRecord(reply));
  }

  return {
    create: (grant) => guardStore('create', () => create(grant)),
    get: (id) => guardStore('get', async () => parseGrantHash(await redis.hgetall(keys.grant(id)))),
    findActive: (key, nowMs) => guardStore('findActive', () => findActive(key, nowMs)),
    countCreatedSince: (user, sinceMs) => guardStore('countCreatedSince', () => redis.zcount(keys.byUser(user), sinceMs, '+inf')),
    revoke: (id, by, nowMs) => guardStore('revoke', () => revoke(id, by, nowMs)),
    markFirstUse: (id, nowMs) =>
      guardStore('markFirstUse', async () => (await redis.eval(REDIS_SCRIPTS.markFirstUse, 1, keys.grant(id), nowMs)) === 1),
    list: (options, nowMs) => guardStore('list', () => list(options, nowMs)),
    close: async () => {
      if (deps.quitOnClose) await redis.quit();
    },
  };
}
