// Assembles break glass from the config: the grant store (file or Redis), the audit trail (file always;
// Elasticsearch and webhook through spooling reliable sinks), and a sweeper that audits expiries. The
// async parts open in the background; every call waits for them, and listen() surfaces a failure.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { BreakGlassConfig } from '../config/schema.ts';
import type { Grant, GrantKey, NewGrantInput } from './grant.ts';
import { createGrant } from './grant.ts';
import type { GrantStore } from './grant-store.ts';
import { createFileGrantStore } from './file-grant-store.ts';
import { createRedisGrantStore } from './redis-grant-store.ts';
import { createAuditLog, createElasticsearchAuditSink, createFileAuditSink, createReliableSink, createWebhookAuditSink, type AuditEventInput, type AuditLog, type ReliableSink } from './audit-log.ts';

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

interface Parts {
  store: GrantStore;
  auditWithWebhook: AuditLog;
  auditWithoutWebhook: AuditLog;
  sinks: ReliableSink[];
}

const DAY_MS = 86_400_000;
const SWEEP_EVERY_MS = 30_000;

export function createBreakGlass(config: BreakGlassConfig, deps: { now: () => number; log: Logger }): BreakGlass {
  const { now, log } = deps;
  const parts = open(config, deps);
  parts.catch((error: unknown) => log.error({ err: error }, 'break glass could not start'));
  const expiredAudited = new Set<string>();
  const sweeper = setInterval(() => void sweep().catch((error: unknown) => log.warn({ err: error }, 'break-glass expiry sweep failed')), SWEEP_EVERY_MS);
  sweeper.unref();

  /** Audits each grant that ran out (once per gateway; grants that expired before start-up are skipped). */
  async function sweep(): Promise<void> {
    const { store, auditWithoutWebhook } = await parts;
    const nowMs = now();
    for (const grant of await store.list({ limit: 1000 }, nowMs)) {
      if (grant.revokedAtMs !== undefined || grant.expiresAtMs > nowMs || expiredAudited.has(grant.id)) continue;
      expiredAudited.add(grant.id);
      if (nowMs - grant.expiresAtMs > SWEEP_EVERY_MS * 4) continue;
      await auditWithoutWebhook.record({ event: 'break-glass.expired', user: grant.user, device: grant.deviceKey, route: grant.route, grantId: grant.id, by: 'system', durationMs: grant.durationMs });
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
      const { auditWithWebhook, auditWithoutWebhook } = await parts;
      await (options.notify ? auditWithWebhook : auditWithoutWebhook).record(event);
    },
    sweepExpired: sweep,
    flushAudit: async () => (await parts).auditWithWebhook.flush(),
    async close() {
      clearInterval(sweeper);
      const opened = await parts.catch(() => undefined);
      if (!opened) return;
      await opened.auditWithWebhook.flush();
      await Promise.all([opened.store.close(), ...opened.sinks.map((s) => s.close())]);
    },
  };
}

async function open(config: BreakGlassConfig, deps: { now: () => number; log: Logger }): Promise<Parts> {
  const { now, log } = deps;
  const store: GrantStore =
    config.store.kind === 'file'
      ? await createFileGrantStore({ file: config.store.file, now, log })
      : createRedisGrantStore({ redis: new Redis(config.store.url, { commandTimeout: 2_000, maxRetriesPerRequest: 1, lazyConnect: false }), prefix: config.store.prefix, now, quitOnClose: true });
  await mkdir(config.audit.spoolDir, { recursive: true });
  const reliable = (sink: Parameters<typeof createReliableSink>[0]) =>
    createReliableSink(sink, { spoolFile: join(config.audit.spoolDir, `${sink.name}.jsonl`), retryBaseMs: 1_000, maxRetryMs: 60_000, now, log });
  const es = config.audit.elasticsearch;
  const esSink = es
    ? await reliable(createElasticsearchAuditSink({ client: new Client({ node: es.node, ...(es.apiKey ? { auth: { apiKey: es.apiKey } } : {}) }), index: es.index }))
    : undefined;
  const hook = config.audit.webhook;
  const webhookSink = hook ? await reliable(createWebhookAuditSink({ url: hook.url, timeoutMs: hook.timeout })) : undefined;
  const file = createFileAuditSink({ file: config.audit.file });
  const sinksWithoutWebhook = esSink ? [esSink] : [];
  const sinksWithWebhook = [...sinksWithoutWebhook, ...(webhookSink ? [webhookSink] : [])];
  return {
    store,
    auditWithWebhook: createAuditLog({ sinks: { file, others: sinksWithWebhook }, log, now }),
    auditWithoutWebhook: createAuditLog({ sinks: { file, others: sinksWithoutWebhook }, log, now }),
    sinks: sinksWithWebhook,
  };
}
