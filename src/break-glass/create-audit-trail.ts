// The gateway's one audit trail, always built (its file has a default): break glass and session
// revocations both write it. The fsync'd file is authoritative; Elasticsearch and the webhook get copies
// through spooling reliable sinks. `notify: false` keeps an event away from the webhook.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { BreakGlassConfig } from '../config/schema.ts';
import { createAuditLog, type AuditLog } from './audit-log.ts';
import type { AuditEvent, AuditEventInput } from './audit-event.ts';
import { createElasticsearchAuditSink, createFileAuditSink, createWebhookAuditSink } from './audit-sinks.ts';
import { createReliableSink, type ReliableSink } from './reliable-sink.ts';

export type AuditConfig = BreakGlassConfig['audit'];

export interface AuditTrail {
  /** Resolves once the sinks are open; rejects when they cannot be (a start-up error). */
  ready(): Promise<void>;
  /** Resolves once the event is in the file; rejects with TG_ERR_AUDIT_UNAVAILABLE otherwise. */
  record(event: AuditEventInput, options: { notify: boolean }): Promise<AuditEvent>;
  /** Delivers what the optional sinks still hold; resolves with the number still pending. */
  flush(): Promise<number>;
  close(): Promise<void>;
}

interface Parts {
  withWebhook: AuditLog;
  withoutWebhook: AuditLog;
  sinks: ReliableSink[];
}

export function createAuditTrail(config: AuditConfig, deps: { now: () => number; log: Logger }): AuditTrail {
  const parts = open(config, deps);
  parts.catch((error: unknown) => deps.log.error({ err: error }, 'audit trail could not start'));
  return {
    ready: async () => void (await parts),
    async record(event, options) {
      const { withWebhook, withoutWebhook } = await parts;
      return (options.notify ? withWebhook : withoutWebhook).record(event);
    },
    flush: async () => (await parts).withWebhook.flush(),
    async close() {
      const opened = await parts.catch(() => undefined);
      if (!opened) return;
      await opened.withWebhook.flush();
      await opened.withWebhook.close();
    },
  };
}

async function open(config: AuditConfig, deps: { now: () => number; log: Logger }): Promise<Parts> {
  const { now, log } = deps;
  await mkdir(config.spoolDir, { recursive: true });
  const reliable = (sink: Parameters<typeof createReliableSink>[0]) =>
    createReliableSink(sink, { spoolFile: join(config.spoolDir, `${sink.name}.jsonl`), retryBaseMs: 1_000, maxRetryMs: 60_000, now, log });
  const es = config.elasticsearch;
  const esSink = es
    ? await reliable(createElasticsearchAuditSink({ client: new Client({ node: es.node, ...(es.apiKey ? { auth: { apiKey: es.apiKey } } : {}) }), index: es.index }))
    : undefined;
  const hook = config.webhook;
  const webhookSink = hook ? await reliable(createWebhookAuditSink({ url: hook.url, timeoutMs: hook.timeout })) : undefined;
  const file = createFileAuditSink({ file: config.file });
  const sinksWithoutWebhook = esSink ? [esSink] : [];
  const sinksWithWebhook = [...sinksWithoutWebhook, ...(webhookSink ? [webhookSink] : [])];
  return {
    withWebhook: createAuditLog({ sinks: { file, others: sinksWithWebhook }, log, now }),
    withoutWebhook: createAuditLog({ sinks: { file, others: sinksWithoutWebhook }, log, now }),
    sinks: sinksWithWebhook,
  };
}
