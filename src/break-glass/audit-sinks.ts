// Where audit events go: the authoritative JSON-lines file (fsync'd), an Elasticsearch index, and a
// webhook (Slack-compatible). Each deliver() resolves only once the destination has accepted the event.
import type { Client } from '@elastic/elasticsearch';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { summarizeAuditEvent } from './audit-event.ts';
import type { AuditEvent } from './audit-event.ts';
import { openJsonLinesFile } from './json-lines-file.ts';

export interface AuditSink {
  /** Short name for logs and metrics (`file`, `elasticsearch`, `webhook`). */
  readonly name: string;
  deliver(event: AuditEvent): Promise<void>;
  close(): Promise<void>;
}

/** One JSON event per line, appended and fsync'd before deliver() resolves (appends are serialized). */
export function createFileAuditSink(options: { file: string }): AuditSink {
  const file = openJsonLinesFile(options.file);
  return {
    name: 'file',
    deliver: (event) => file.append([event]),
    close: () => file.close(),
  };
}

export interface ElasticsearchAuditSinkOptions {
  /** The caller's client (it owns retries, timeouts and closing). */
  client: Client;
  index: string;
}

// Matched by shape, not instanceof: the client's ESM and CommonJS builds each carry their own class.
function isConflict(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResponseError' && (error as { statusCode?: unknown }).statusCode === 409;
}

/**
 * One document per event with `@timestamp`. The event id is the document id and `op_type: create`
 * makes a redelivery after a crash a 409 we count as delivered (and works for data streams too).
 */
export function createElasticsearchAuditSink(options: ElasticsearchAuditSinkOptions): AuditSink {
  return {
    name: 'elasticsearch',
    async deliver(event) {
      try {
        await options.client.index({
          index: options.index,
          id: event.id,
          op_type: 'create',
          document: { '@timestamp': event.time, ...event },
        });
      } catch (error) {
        if (isConflict(error)) return;
        throw error;
      }
    },
    close: async () => undefined,
  };
}

export interface WebhookAuditSinkOptions {
  url: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** For proxies or tests; undici's global dispatcher otherwise. */
  dispatcher?: Dispatcher;
}

export class WebhookDeliveryError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number) {
    super(`Audit webhook answered HTTP ${statusCode}`);
    this.name = 'WebhookDeliveryError';
    this.statusCode = statusCode;
  }
}

/** POSTs `{ text, ...event }`: Slack incoming webhooks show `text`; other receivers read the fields. */
export function createWebhookAuditSink(options: WebhookAuditSinkOptions): AuditSink {
  return {
    name: 'webhook',
    async deliver(event) {
      const response = await request(options.url, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ text: summarizeAuditEvent(event), ...event }),
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      // Drain the body so the connection returns to the pool; only the status matters.
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode >= 300) throw new WebhookDeliveryError(response.statusCode);
    },
    close: async () => undefined,
  };
}
