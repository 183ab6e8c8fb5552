// Assembles break glass from the config: the grant store (file or Redis), the gateway's audit trail it
// writes to (built once for the whole gateway, see create-audit-trail.ts), and a sweeper that audits
// expiries. The store opens in the background; every call waits for it, and listen() surfaces a failure.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BreakGlassConfig } from '../config/schema.ts';
import type { Grant, GrantKey, NewGrantInput } from './grant.ts';
import { createGrant } from './grant.ts';
import type { GrantStore } from './grant-store.ts';
import { createFileGrantStore } from './file-grant-store.ts';
import { createRedisGrantStore } from './redis-grant-store.ts';
import type { AuditEventInput } from './audit-event.ts';
import type { AuditTrail } from './create-audit-trail.ts';

export interface BreakGlass {
  ready(): Promise<void>;
  findActive(key: GrantKey): Promise<Grant | undefined>;
  grant(input: NewGrantInput): Promise<Grant>;
  grantsToday(user: string): Promise<number>;
  markFirstUse(id: string): Promise<boolean>;
  revoke(id: string, by: string): Promise<Grant | undefined>;
  list(options: { activeOnly?: boolean; limit: number }): Promise<Grant[]>;
  /** Audits; `notify: false` keeps the event away from the webhook (file and Elasticsearch still get it). */
  audit(event: AuditEventInput, options: { notify: boolean }): Promise<void>;
  /** Audits grants that ran out since the last sweep (also runs every 30 s by itself). */
  sweepExpired(): Promise<void>;
  /** Delivers what the optional audit sinks still hold; resolves with the number still pending. */
  flushAudit(): Promise<number>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const SWEEP_EVERY_MS = 30_000;

export function createBreakGlass(config: BreakGlassConfig, deps: { now: () => number; log: Logger; audit: AuditTrail }): BreakGlass {
  const { now, log, audit } = deps;
  const parts = open(config, deps).then(async (store) => {
    await audit.ready();
    return { store };
  });
  parts.catch((error: unknown) => log.error({ err: error }, 'break glass could not start'));
  const expiredAudited = new Set<string>();
  const sweeper = setInterval(() => void sweep().catch((error: unknown) => log.warn({ err: error }, 'break-glass expiry sweep failed')), SWEEP_EVERY_MS);
  sweeper.unref();

  /** Audits each grant that ran out (once per gateway; grants that expired before start-up are skipped). */
  async function sweep(): Promise<void> {
    const { store } = await parts;
    const nowMs = now();
    for (const grant of await store.list({ limit: 1000 }, nowMs)) {
      if (grant.revokedAtMs !== undefined || grant.expiresAtMs > nowMs || expiredAudited.has(grant.id)) continue;
      expiredAudited.add(grant.id);
      if (nowMs - grant.expiresAtMs > SWEEP_EVERY_MS * 4) continue;
      await audit.record({ event: 'break-glass.expired', user: grant.user, device: grant.deviceKey, route: grant.route, grantId: grant.id, by: 'system', durationMs: grant.durationMs }, { notify: false });
    }
  }

  return {
    ready: async () => void (await parts),
    findActive: async (key) => (await parts).store.findActive(key, now()),
    async grant(input) {
      const grant = createGrant(input, now());
      await (await parts).store.create(grant);
      return grant;
    },
    grantsToday: async (user) => (await parts).store.countCreatedSince(user, now() - DAY_MS),
    markFirstUse: async (id) => (await parts).store.markFirstUse(id, now()),
    revoke: async (id, by) => (await parts).store.revoke(id, by, now()),
    list: async (options) => (await parts).store.list(options, now()),
    async audit(event, options) {
      await parts;
      await audit.record(event, options);
    },
    sweepExpired: sweep,
    flushAudit: () => audit.flush(),
    // The audit trail is the gateway's: whoever built it closes it.
    async close() {
      clearInterval(sweeper);
      const opened = await parts.catch(() => undefined);
      await opened?.store.close();
    },
  };
}

async function open(config: BreakGlassConfig, deps: { now: () => number; log: Logger }): Promise<GrantStore> {
  const { now, log } = deps;
  return config.store.kind === 'file'
    ? createFileGrantStore({ file: config.store.file, now, log })
    : createRedisGrantStore({ redis: new Redis(config.store.url, { commandTimeout: 2_000, maxRetriesPerRequest: 1, lazyConnect: false }), prefix: config.store.prefix, now, quitOnClose: true });
}
