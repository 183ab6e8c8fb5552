// Integration test of the break-glass audit log: the fsync'd file sink, a webhook against a real loopback
// HTTP server, Elasticsearch through elasticsearch-mock, and outages that must lose nothing (spool + retry).
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { createAuditLog, type AuditLog } from '../../src/break-glass/audit-log.ts';
import { AUDIT_EVENT_NAMES, type AuditEvent, type AuditEventInput } from '../../src/break-glass/audit-event.ts';
import { createElasticsearchAuditSink, createFileAuditSink, createWebhookAuditSink, type AuditSink } from '../../src/break-glass/audit-sinks.ts';
import { createReliableSink, type ReliableSink } from '../../src/break-glass/reliable-sink.ts';

// elasticsearch-mock is CommonJS and recognises only the CommonJS client's ResponseError (the ESM build
// has its own copy of the class), so both come through require.
type MockClass = (typeof import('@elastic/elasticsearch-mock'))['default'];
const require = createRequire(import.meta.url);
const Mock = require('@elastic/elasticsearch-mock') as MockClass;
const { errors: cjsErrors } = require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');
const esError = (statusCode: number, body: Record<string, unknown>) =>
  new cjsErrors.ResponseError({ body, statusCode, headers: {}, warnings: null, meta: {} as never });

const silent = pino({ level: 'silent' });
const NOW = Date.UTC(2025, 0, 15, 9, 30);
const SLOW_RETRY = { retryBaseMs: 60_000, maxRetryMs: 60_000 };

interface WebhookServer {
  url: string;
  port: number;
  /** Every request, in arrival order, including refused ones. */
  requests: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[];
  /** Bodies answered 2xx: what was delivered. */
  accepted: Record<string, unknown>[];
  /** Decides the status of the n-th request (0-based). */
  status: (index: number) => number;
  close(): Promise<void>;
}

async function startWebhookServer(port = 0): Promise<WebhookServer> {
  const state: Omit<WebhookServer, 'url' | 'port' | 'close'> = { requests: [], accepted: [], status: () => 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const status = state.status(state.requests.length);
      state.requests.push({ headers: req.headers, body });
      if (status < 300) state.accepted.push(body);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'down');
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${bound}/hooks/audit`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function grantedEvent(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    event: 'break-glass.granted',
    user: 'alice@example.com',
    device: 'host-uuid-A',
    route: 'payroll',
    reason: 'Payroll run blocked by a failing disk-encryption check',
    durationMs: 2 * 60 * 60 * 1000,
    sourceAddress: '198.51.100.7',
    requestId: 'req-1',
    grantId: 'grant-0001',
    ...overrides,
  };
}

const readLines = async (file: string): Promise<AuditEvent[]> =>
  (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditEvent);

let dir: string;
let auditFile: string;
let spoolFile: string;
let logs: AuditLog[];
let servers: WebhookServer[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tg-audit-'));
  auditFile = path.join(dir, 'audit.jsonl');
  spoolFile = path.join(dir, 'spool', 'webhook.jsonl');
  logs = [];
  servers = [];
});

afterEach(async () => {
  for (const log of logs) await log.close();
  for (const server of servers) await server.close();
  await rm(dir, { recursive: true, force: true });
});

function auditLog(others: ReliableSink[] = []): AuditLog {
  const log = createAuditLog({ sinks: { file: createFileAuditSink({ file: auditFile }), others }, log: silent, now: () => NOW });
  logs.push(log);
  return log;
}

async function webhookServer(port?: number): Promise<WebhookServer> {
  const server = await startWebhookServer(port);
  servers.push(server);
  return server;
}

const reliableWebhook = (url: string): Promise<ReliableSink> =>
  createReliableSink(createWebhookAuditSink({ url, timeoutMs: 5000, headers: { authorization: 'Bearer hook-token' } }), { spoolFile, ...SLOW_RETRY, log: silent });

async function recordMany(log: AuditLog, count: number): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let index = 0; index < count; index += 1) events.push(await log.record(grantedEvent({ requestId: `req-${index}` })));
  return events;
}

describe('file sink', () => {
  test('has every event, one fsync\'d JSON line each, with id and ISO time filled in', async () => {
    const log = auditLog();
    const recorded: AuditEvent[] = [];
    for (const name of AUDIT_EVENT_NAMES) {
      recorded.push(await log.record(grantedEvent({ event: name })));
      expect((await readLines(auditFile)).at(-1)).toEqual(recorded.at(-1));
    }
    const lines = await readLines(auditFile);
    expect(lines.map((line) => line.event)).toEqual([...AUDIT_EVENT_NAMES]);
    expect(new Set(lines.map((line) => line.id)).size).toBe(AUDIT_EVENT_NAMES.length);
    expect(lines[0]).toMatchObject({ time: '2025-01-15T09:30:00.000Z', user: 'alice@example.com', grantId: 'grant-0001' });
  });

  test('a file sink that cannot write makes record() fail with TG_ERR_AUDIT_UNAVAILABLE and queues nothing', async () => {
    await writeFile(path.join(dir, 'not-a-dir'), 'x');
    const queued: AuditEvent[] = [];
    const other: AuditSink = { name: 'memory', deliver: async (event) => void queued.push(event), close: async () => undefined };
    const sink = await createReliableSink(other, { spoolFile, ...SLOW_RETRY });
    const log = createAuditLog({ sinks: { file: createFileAuditSink({ file: path.join(dir, 'not-a-dir', 'audit.jsonl') }), others: [sink] }, log: silent });
    logs.push(log);
    const error = await log.record(grantedEvent()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('TG_ERR_AUDIT_UNAVAILABLE');
    expect(await log.flush()).toBe(0);
    expect(queued).toEqual([]);
  });
});

describe('webhook sink', () => {
  test('POSTs JSON with a Slack-style one-line text plus the event fields', async () => {
    const server = await webhookServer();
    const log = auditLog([await reliableWebhook(server.url)]);
    const event = await log.record(grantedEvent({ reason: 'Outage <!channel> & on-call\nneeds payroll' }));
    expect(await log.flush()).toBe(0);
    expect(server.accepted).toHaveLength(1);
    const [{ headers, body }] = server.requests as [WebhookServer['requests'][number]];
    expect(headers['content-type']).toBe('application/json');
    expect(headers.authorization).toBe('Bearer hook-token');
    expect(body).toMatchObject({ ...event });
    expect(body.text).toBe(
      'Break glass GRANTED to alice@example.com for payroll from device host-uuid-A for 2h (grant grant-0001)' +
        ' — reason: "Outage &lt;!channel&gt; &amp; on-call needs payroll"',
    );
  });
});

describe('Elasticsearch sink', () => {
  function esClient(mock: InstanceType<MockClass>): Client {
    // Same class at runtime; the types differ only because the mock is typed against the CommonJS build.
    return new Client({ node: 'http://localhost:9200', Connection: mock.getConnection() as never, maxRetries: 0 });
  }

  test('indexes one document per event with @timestamp and the event id as document id', async () => {
    const mock = new Mock();
    const calls: { path: string; body: Record<string, unknown> }[] = [];
    mock.add({ method: 'PUT', path: '/:index/_doc/:id' }, (params) => {
      calls.push({ path: String(params.path), body: params.body as Record<string, unknown> });
      return { result: 'created' };
    });
    const sink = await createReliableSink(createElasticsearchAuditSink({ client: esClient(mock), index: 'trustgate-audit' }), { spoolFile, ...SLOW_RETRY });
    const log = auditLog([sink]);
    const events = [await log.record(grantedEvent()), await log.record(grantedEvent({ event: 'break-glass.first-use' }))];
    expect(await log.flush()).toBe(0);
    expect(calls.map((call) => call.path)).toEqual(events.map((event) => `/trustgate-audit/_doc/${event.id}`));
    expect(calls[0]?.body).toEqual({ '@timestamp': '2025-01-15T09:30:00.000Z', ...events[0] });
    expect(calls[1]?.body.event).toBe('break-glass.first-use');
  });

  test('a 503 outage spools the events; after recovery flush() indexes each once, in order', async () => {
    const mock = new Mock();
    let down = true;
    const indexed: string[] = [];
    mock.add({ method: 'PUT', path: '/:index/_doc/:id' }, (params) => {
      if (down) return esError(503, { error: 'unavailable' });
      indexed.push(String((params.body as Record<string, unknown>).requestId));
      return { result: 'created' };
    });
    const sink = await createReliableSink(createElasticsearchAuditSink({ client: esClient(mock), index: 'trustgate-audit' }), { spoolFile, ...SLOW_RETRY });
    const log = auditLog([sink]);
    const events = await recordMany(log, 4);
    expect(await log.flush()).toBe(4);
    expect(sink.status()).toMatchObject({ pending: 4, spooling: true });
    expect((await readLines(spoolFile)).map((event) => event.id)).toEqual(events.map((event) => event.id));
    down = false;
    expect(await log.flush()).toBe(0);
    expect(indexed).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);
    expect(await readLines(spoolFile)).toEqual([]);
    expect((await readLines(auditFile)).map((event) => event.id)).toEqual(events.map((event) => event.id));
  });

  test('the sink resolves on 409 (already indexed by an earlier delivery) and rejects on 503', async () => {
    const mock = new Mock();
    let status = 409;
    mock.add({ method: 'PUT', path: '/:index/_doc/:id' }, () => esError(status, { error: { type: 'status_' + status } }));
    const sink = createElasticsearchAuditSink({ client: esClient(mock), index: 'trustgate-audit' });
    const event: AuditEvent = { ...grantedEvent(), id: 'event-0001', time: new Date(NOW).toISOString() };
    await expect(sink.deliver(event)).resolves.toBeUndefined();
    status = 503;
    await expect(sink.deliver(event)).rejects.toMatchObject({ statusCode: 503 });
  });
});

describe('outages lose nothing', () => {
  test('webhook answering 500: spooled, then delivered exactly once in order after recovery', async () => {
    const server = await webhookServer();
    // The first two requests succeed, then the receiver breaks: the failure is in the middle of the queue.
    server.status = (index) => (index < 2 ? 200 : 500);
    const sink = await reliableWebhook(server.url);
    const log = auditLog([sink]);
    const events = await recordMany(log, 5);
    expect(await log.flush()).toBe(3);
    expect((await readLines(spoolFile)).map((event) => event.requestId)).toEqual(['req-2', 'req-3', 'req-4']);
    server.status = () => 200;
    expect(await log.flush()).toBe(0);
    expect(server.accepted.map((body) => body.id)).toEqual(events.map((event) => event.id));
    expect(await readLines(spoolFile)).toEqual([]);
    const later = await log.record(grantedEvent({ requestId: 'req-later' }));
    expect(await log.flush()).toBe(0);
    expect(server.accepted.map((body) => body.id)).toEqual([...events, later].map((event) => event.id));
  });

  test('webhook on a closed port: spooled, then delivered once the receiver is listening', async () => {
    const port = await closedPort();
    const sink = await reliableWebhook(`http://127.0.0.1:${port}/hooks/audit`);
    const log = auditLog([sink]);
    const events = await recordMany(log, 3);
    expect(await log.flush()).toBe(3);
    expect(sink.status().lastError).toBeDefined();
    const server = await webhookServer(port);
    expect(await log.flush()).toBe(0);
    expect(server.accepted.map((body) => body.id)).toEqual(events.map((event) => event.id));
    expect(server.requests).toHaveLength(3);
  });

  test('failed deliveries are retried in the background without flush()', async () => {
    const server = await webhookServer();
    server.status = (index) => (index < 2 ? 503 : 200);
    const sink = await createReliableSink(createWebhookAuditSink({ url: server.url, timeoutMs: 5000 }), { spoolFile, retryBaseMs: 5, maxRetryMs: 20 });
    const log = auditLog([sink]);
    const events = await recordMany(log, 2);
    await vi.waitFor(() => expect(server.accepted).toHaveLength(2), { timeout: 10_000, interval: 10 });
    expect(server.accepted.map((body) => body.id)).toEqual(events.map((event) => event.id));
    expect(server.requests.length).toBeGreaterThanOrEqual(4);
  });

  test('a restart with a non-empty spool delivers it, skipping a torn last line', async () => {
    const port = await closedPort();
    const first = auditLog([await reliableWebhook(`http://127.0.0.1:${port}/hooks/audit`)]);
    const events = await recordMany(first, 3);
    expect(await first.flush()).toBe(3);
    await first.close();
    logs = logs.filter((log) => log !== first);
    expect((await readLines(spoolFile)).map((event) => event.id)).toEqual(events.map((event) => event.id));
    await appendFile(spoolFile, '{"id":"torn-by-a-cra');
    const server = await webhookServer();
    const sink = await reliableWebhook(server.url);
    expect(sink.pending()).toBe(3);
    const second = auditLog([sink]);
    expect(await second.flush()).toBe(0);
    expect(server.accepted.map((body) => body.id)).toEqual(events.map((event) => event.id));
    expect(await readLines(spoolFile)).toEqual([]);
  });
});
