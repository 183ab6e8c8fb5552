// Where break-glass state lives, end to end: the file store survives a gateway restart, two gateways
// sharing a Redis prefix honour (and stop honouring) each other's grants, and an audit webhook outage
// loses nothing (spooled, then delivered once and in order).
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BREAK_GLASS_FILES, startStack, type Stack } from '../support/start-stack.ts';
import { BREAK_GLASS_ROUTE, adminGrants, eventsNamed, requestGrant, revoke, signedIn, upstreamHeaders } from '../support/break-glass-client.ts';
import { signedInAdmin } from '../support/admin-client.ts';
import { TEST_REDIS_URL } from '../support/test-redis.ts';

function breakGlassService(stack: Stack) {
  const service = stack.gateway.runtime().breakGlass;
  if (!service) throw new Error('the route allows break glass, so the gateway must have the service');
  return service;
}

describe('the file store across a restart', () => {
  let dir = '';
  const stacks: Stack[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trustgate-break-glass-restart-'));
  });
  afterAll(async () => {
    for (const stack of stacks) await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a grant made before the restart still lets bob in afterwards, and its first use is not audited again', async () => {
    const first = await startStack({ fleet: {}, route: BREAK_GLASS_ROUTE, breakGlass: { dir } });
    stacks.push(first);
    const bob = await signedIn(first, 'bob');
    const { status, grantId } = await requestGrant(bob, first);
    expect(status).toBe(200);
    expect((await upstreamHeaders(bob, `${first.url}/echo/before`))['x-trustgate-break-glass']).toBe(grantId);
    await first.close();
    stacks.pop();

    const second = await startStack({ fleet: {}, route: BREAK_GLASS_ROUTE, breakGlass: { dir } });
    stacks.push(second);
    expect(second.breakGlassDir).toBe(dir);
    // Same session secret and host, so bob's cookie from before the restart is still good.
    const headers = await upstreamHeaders(bob, `${second.url}/echo/after`);
    expect(headers['x-trustgate-break-glass']).toBe(grantId);
    expect(second.decisions().at(-1)).toMatchObject({ reasons: ['break-glass-active', 'policy-failed'], grant: grantId });
    const events = await second.auditEvents();
    expect(events.map((e) => e.event)).toEqual(['break-glass.requested', 'break-glass.granted', 'break-glass.first-use']);
    const alice = await signedInAdmin(second, 'alice');
    expect((await adminGrants(alice, second)).html).toContain(`data-grant-id="${grantId}"`);
  });
});

describe('two gateways sharing a Redis store', () => {
  const prefix = `trustgate-test:${randomUUID()}:`;
  const store = { kind: 'redis', url: TEST_REDIS_URL, prefix };
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  let a: Stack;
  let b: Stack;

  beforeAll(async () => {
    await redis.connect();
    a = await startStack({ fleet: {}, route: BREAK_GLASS_ROUTE, breakGlass: { store } });
    b = await startStack({ fleet: {}, route: BREAK_GLASS_ROUTE, breakGlass: { store } });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  test('a grant made through gateway A lets bob through B; revoked through A, B denies his next request', async () => {
    const bobOnA = await signedIn(a, 'bob');
    const bobOnB = await signedIn(b, 'bob');
    expect((await bobOnB.request(`${b.url}/`)).status).toBe(403);

    const { status, grantId } = await requestGrant(bobOnA, a);
    expect(status).toBe(200);
    expect(await redis.exists(`${prefix}grant:${grantId}`)).toBe(1);
    expect((await upstreamHeaders(bobOnB, `${b.url}/echo/b`))['x-trustgate-break-glass']).toBe(grantId);
    expect((await upstreamHeaders(bobOnA, `${a.url}/echo/a`))['x-trustgate-break-glass']).toBe(grantId);
    expect((await upstreamHeaders(bobOnB, `${b.url}/echo/b2`))['x-trustgate-break-glass']).toBe(grantId);
    // First use is claimed in Redis: audited once, by whichever gateway saw it first (B).
    expect(eventsNamed(await b.auditEvents(), 'first-use', grantId)).toHaveLength(1);
    expect(eventsNamed(await a.auditEvents(), 'first-use', grantId)).toHaveLength(0);

    const alice = await signedInAdmin(a, 'alice');
    const page = await adminGrants(alice, a);
    expect(page.html).toContain(`data-grant-id="${grantId}"`);
    expect((await revoke(alice, a, { id: grantId, csrf: page.csrf })).status).toBe(302);
    expect((await bobOnB.request(`${b.url}/`)).status).toBe(403);
    expect(b.decisions().at(-1)).toMatchObject({ verdict: 'deny', reasons: ['policy-failed'] });
    const onB = (await breakGlassService(b).list({ limit: 10 })).find((g) => g.id === grantId);
    expect(onB).toMatchObject({ revokedBy: 'alice@example.com' });
  });
});

interface Webhook {
  url: string;
  status: number;
  /** Event ids of the posts answered 2xx, in arrival order. */
  accepted: string[];
  refused: number;
  close(): Promise<void>;
}

async function startWebhook(status: number): Promise<Webhook> {
  const state = { status, accepted: [] as string[], refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
      if (state.status < 300) state.accepted.push(body.id);
      else state.refused += 1;
      res.writeHead(state.status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

describe('an audit webhook outage', () => {
  let webhook: Webhook;
  let stack: Stack;

  beforeAll(async () => {
    webhook = await startWebhook(500);
    stack = await startStack({ fleet: {}, route: BREAK_GLASS_ROUTE, breakGlass: { audit: { webhook: { url: webhook.url, timeout: '2s' } } } });
  });
  afterAll(async () => {
    await stack?.close();
    await webhook?.close();
  });

  test('loses nothing: events are spooled while the webhook fails and delivered once, in order, when it recovers', async () => {
    const bob = await signedIn(stack, 'bob');
    expect((await requestGrant(bob, stack)).status).toBe(200);
    const service = breakGlassService(stack);
    const events = await stack.auditEvents();
    const ids = events.map((e) => String(e.id));
    expect(events.map((e) => e.event)).toEqual(['break-glass.requested', 'break-glass.granted']);

    expect(await service.flushAudit()).toBe(ids.length);
    expect(webhook.refused).toBeGreaterThan(0);
    expect(webhook.accepted).toEqual([]);
    const spoolFile = path.join(stack.breakGlassDir ?? '', BREAK_GLASS_FILES.spoolDir, 'webhook.jsonl');
    const spooled = (await readFile(spoolFile, 'utf8')).split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);
    expect(spooled).toEqual(ids);

    webhook.status = 200;
    expect(await service.flushAudit()).toBe(0);
    expect(webhook.accepted).toEqual(ids);
    expect((await readFile(spoolFile, 'utf8')).trim()).toBe('');
  });
});
