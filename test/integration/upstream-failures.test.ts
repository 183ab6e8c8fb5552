// An upstream that is down or too slow gets a clear 502/504 answer (page or JSON) with a request id and
// no internals, and the gateway keeps serving the routes that work.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const STACK_TRACE = /at .*\.ts:\d+/;
const REQUEST_ID_IN_PAGE = /Request id: <code data-testid="request-id">([0-9a-f-]{36})<\/code>/;

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('upstream failures', () => {
  let stack: Stack;
  const client = new BrowserClient();

  beforeAll(async () => {
    const deadPort = await closedPort();
    const common = { host: '127.0.0.1', allowedGroups: ['engineering'] };
    stack = await startStack({
      routes: (upstream) => [
        { name: 'app', pathPrefix: '/', upstream, ...common },
        { name: 'down', pathPrefix: '/down', upstream: `http://127.0.0.1:${deadPort}`, ...common },
        { name: 'slow', pathPrefix: '/slow', upstream, timeout: '300ms', ...common },
      ],
    });
    const { response } = await signIn(client, `${stack.url}/`, 'alice');
    expect(response.status).toBe(200);
  });
  afterAll(() => stack.close());

  test('an unreachable upstream gets a 502 page with a request id', async () => {
    const response = await client.request(`${stack.url}/down/page`);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('cannot be reached');
    expect(html).toContain('Application unavailable');
    expect(REQUEST_ID_IN_PAGE.exec(html)?.[1]).toBe(response.headers.get('x-request-id'));
    expect(html).not.toMatch(STACK_TRACE);
    expect(html).not.toContain('ECONNREFUSED');
  });

  test('an unreachable upstream gets 502 JSON for API clients', async () => {
    const response = await client.request(`${stack.url}/down/api`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'TG_ERR_UPSTREAM_UNAVAILABLE', requestId: response.headers.get('x-request-id') });
    expect(text).not.toMatch(STACK_TRACE);
  });

  test('an upstream slower than the route timeout gets 504, page and JSON', async () => {
    const page = await client.request(`${stack.url}/slow?ms=3000`);
    expect(page.status).toBe(504);
    const html = await page.text();
    expect(html).toContain('Application did not answer in time');
    expect(html).toMatch(REQUEST_ID_IN_PAGE);
    expect(html).not.toMatch(STACK_TRACE);

    const json = await client.request(`${stack.url}/slow?ms=3000`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(504);
    const text = await json.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'TG_ERR_UPSTREAM_TIMEOUT' });
    expect(text).not.toMatch(STACK_TRACE);
  });

  test('the failures are logged as errors with their request ids', async () => {
    const errors = stack.logs.filter((l) => l.level === 50);
    expect(errors.some((l) => l.code === 'TG_ERR_UPSTREAM_UNAVAILABLE')).toBe(true);
    expect(errors.some((l) => l.code === 'TG_ERR_UPSTREAM_TIMEOUT')).toBe(true);
  });

  test('the gateway keeps serving afterwards, on the same routes', async () => {
    const echo = await client.request(`${stack.url}/echo/still-here`, { headers: { accept: 'application/json' } });
    expect(echo.status).toBe(200);
    expect(await echo.json()).toMatchObject({ url: '/echo/still-here' });
    const quick = await client.request(`${stack.url}/slow?ms=0`, { headers: { accept: 'application/json' } });
    expect(quick.status).toBe(200);
    expect(await quick.json()).toMatchObject({ url: '/slow?ms=0' });
    const down = await client.request(`${stack.url}/down/again`, { headers: { accept: 'application/json' } });
    expect(down.status).toBe(502);
    await down.arrayBuffer();
    expect((await fetch(`${stack.url}/.trustgate/healthz`)).status).toBe(200);
  });
});
