// The shared revocation list for several replicas: records live in one Redis sorted set scored by when
// they may be forgotten, every addition is published on a channel (each replica keeps a local copy, so
// no request waits on Redis), and logout-token ids are claimed with SET NX.
import type { Redis } from 'ioredis';
import { revocationRecordSchema, type RevocationRecord } from './revocation-record.ts';
import { guardRevocationStore, type RevocationListener, type RevocationStore } from './revocation-store.ts';

export interface RedisRevocationStoreDeps {
  redis: Redis;
  /** Namespaces every key and the channel, e.g. `trustgate:sessions:`. */
  prefix: string;
  now: () => number;
  /** Whether close() also quits the client (default false: the caller owns it). */
  quitOnClose?: boolean;
}

export function redisRevocationKeys(prefix: string) {
  return { records: `${prefix}records`, channel: `${prefix}events`, claim: (key: string) => `${prefix}claim:${key}` };
}

function parse(text: string): RevocationRecord | undefined {
  try {
    const parsed = revocationRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function createRedisRevocationStore(deps: RedisRevocationStoreDeps): RevocationStore {
  const { redis } = deps;
  const keys = redisRevocationKeys(deps.prefix);
  let subscriber: Redis | undefined;

  async function subscribe(listener: RevocationListener): Promise<void> {
    const sub = redis.duplicate();
    subscriber = sub;
    let readyBefore = false;
    sub.on('message', (channel: string, message: string) => {
      const record = channel === keys.channel ? parse(message) : undefined;
      if (record) listener.added(record);
    });
    sub.on('ready', () => {
      listener.connected(true);
      // After a reconnect, additions published meanwhile were missed: reload the whole list.
      if (readyBefore) listener.resync();
      readyBefore = true;
    });
    for (const event of ['close', 'end', 'error']) sub.on(event, () => listener.connected(false));
    await sub.subscribe(keys.channel);
  }

  return {
    load: (nowMs) =>
      guardRevocationStore('load', async () => {
        const members = await redis.zrangebyscore(keys.records, `(${nowMs}`, '+inf');
        return members.map(parse).filter((record): record is RevocationRecord => record !== undefined);
      }),
    add: (record) =>
      guardRevocationStore('add', async () => {
        const member = JSON.stringify(record);
        const replies = await redis
          .multi()
          .zadd(keys.records, record.expiresAtMs, member)
          .zremrangebyscore(keys.records, '-inf', deps.now())
          .publish(keys.channel, member)
          .exec();
        const failed = replies?.find(([error]) => error);
        if (!replies || failed) throw failed?.[0] ?? new Error('transaction aborted');
      }),
    claimOnce: (key, expiresAtMs) =>
      guardRevocationStore('claim', async () => {
        const ttlMs = Math.max(1, Math.ceil(expiresAtMs - deps.now()));
        return (await redis.set(keys.claim(key), '1', 'PX', ttlMs, 'NX')) === 'OK';
      }),
    subscribe,
    close: async () => {
      subscriber?.disconnect();
      if (deps.quitOnClose) await redis.quit().catch(() => undefined);
    },
  };
}
