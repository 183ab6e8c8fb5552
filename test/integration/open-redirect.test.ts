// The return address after sign-in cannot be pointed off the gateway: /.trustgate/login?rd= refuses
// every open-redirect form, a good rd lands exactly there, and a foreign Host header steers nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { rawRequest } from '../support/raw-request.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

describe('open redirects', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  function loginUrl(rd: string): string {
    return `${stack.url}/.trustgate/login?rd=${encodeURIComponent(rd)}`;
  }

  /** Walks the IdP like signIn does, but stops at (does not request) the gateway's callback URL. */
  async function callbackUrlFor(client: BrowserClient, startUrl: string): Promise<string> {
    const first = await client.follow(startUrl);
    const html = await first.response.text();
    const action = /<form method="post" action="([^"]+\/login)">/.exec(html)?.[1];
    if (!action) throw new Error(`expected the IdP sign-in page, got ${first.response.status}`);
    const formUrl = new URL(action.replace(/&amp;/g, '&'), first.hops.at(-1)?.url).href;
    let response = await client.request(formUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: 'alice' }).toString(),
    });
    let current = formUrl;
    for (let i = 0; i < 10; i++) {
      const location = response.headers.get('location');
      if (!location) throw new Error(`IdP stopped redirecting at ${current} with ${response.status}`);
      const next = new URL(location, current).href;
      if (next.startsWith(`${stack.url}/.trustgate/callback`)) return next;
      await response.arrayBuffer();
      current = next;
      response = await client.request(current);
    }
    throw new Error('never reached the callback');
  }

  const refused = (port: number): string[] => [
    '//evil.example',
    '//evil.example/path',
    '/\\evil.example',
    '\\\\evil.example',
    '/\\/evil.example',
    '\\/evil.example',
    'https://evil.example/',
    'http://evil.example',
    'HTTPS://EVIL.EXAMPLE/',
    'http://127.0.0.1.evil.example/',
    `http://127.0.0.1:${port}.evil.example/`,
    `http://127.0.0.1:${port}@evil.example/`,
    'http://evil.example#@127.0.0.1/',
    'https:evil.example',
    'https:/evil.example',
    'http:\\\\evil.example',
    '///evil.example',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    'ftp://127.0.0.1/',
    `http://user@127.0.0.1:${port}/`,
    `http://user:pass@127.0.0.1:${port}/`,
    `http://localhost:${port}/`,
    ' /x',
    '\t/x',
    '\n/x',
    '/\t/evil.example',
    '/\n/evil.example',
    '\t//evil.example',
    '/\r\nSet-Cookie:x=1',
    '/x\x00',
    'evil.example',
    '.evil.example',
    `/${'a'.repeat(5000)}`,
  ];

  test('every open-redirect form is refused with 400 and no redirect', async () => {
    for (const rd of refused(stack.port)) {
      const response = await fetch(loginUrl(rd), { redirect: 'manual', headers: { accept: 'application/json' } });
      const body = await response.text();
      expect(response.status, JSON.stringify(rd)).toBe(400);
      expect(response.headers.get('location'), JSON.stringify(rd)).toBeNull();
      expect(response.headers.getSetCookie().join(';'), JSON.stringify(rd)).not.toContain('trustgate_session_login=');
      expect(JSON.parse(body), JSON.stringify(rd)).toMatchObject({ error: 'TG_ERR_BAD_REQUEST' });
    }
  });

  test('the refusal is a page with a request id for browsers', async () => {
    const response = await fetch(loginUrl('//evil.example'), { redirect: 'manual' });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('not an application behind this gateway');
    expect(html).toMatch(/Request id: <code data-testid="request-id">[0-9a-f-]{36}<\/code>/);
  });

  test('a valid return path lands, after a full sign-in, exactly there', async () => {
    const client = new BrowserClient();
    const { response, hops } = await signIn(client, loginUrl('/deep/link?q=1'), 'alice');
    expect(hops.at(-1)?.url).toBe(`${stack.url}/deep/link?q=1`);
    expect(response.status).toBe(200);
    expect(hops.every((hop) => [stack.url, stack.idp.issuer].includes(new URL(hop.url).origin))).toBe(true);
  });

  test('an absolute return URL on the gateway host is accepted as is', async () => {
    const client = new BrowserClient();
    const { hops } = await signIn(client, loginUrl(`${stack.url}/abs/path`), 'alice');
    expect(hops.at(-1)?.url).toBe(`${stack.url}/abs/path`);
  });

  test('odd but accepted return paths still land on the gateway', async () => {
    // Percent-encoded text is not decoded again, and "/.//x" resolves to a path on our own origin.
    for (const rd of ['/%0d%0aSet-Cookie:x=1', '/.//evil.example', '/%2f%2fevil.example', '/%5cevil.example']) {
      const client = new BrowserClient();
      const callback = await callbackUrlFor(client, loginUrl(rd));
      const landing = await client.request(callback);
      expect(landing.status, rd).toBe(302);
      const location = landing.headers.get('location') ?? '';
      expect(new URL(location).origin, rd).toBe(stack.url);
      expect(location, rd).not.toMatch(/[\r\n]/);
      expect(landing.headers.getSetCookie().some((c) => c.startsWith('x=')), rd).toBe(false);
    }
  });

  test('a Host header that is not a route host gets 404, never a redirect to it', async () => {
    for (const target of ['/', '/some/page', '/deep/link?q=1']) {
      const response = await rawRequest(stack.url, target, { headers: [['Host', 'evil.example'], ['Accept', 'text/html']] });
      expect(response.status, target).toBe(404);
      expect(response.headers.location, target).toBeUndefined();
    }
    const login = await rawRequest(stack.url, '/.trustgate/login?rd=%2Fx', { headers: [['Host', 'evil.example']] });
    expect(login.status).toBe(400);
    expect(login.headers.location).toBeUndefined();
    const sneaky = await rawRequest(stack.url, '/some/page', { headers: [['Host', `127.0.0.1:${stack.port}@evil.example`]] });
    expect(sneaky.status).toBe(404);
    expect(sneaky.headers.location).toBeUndefined();
  });

  test('finishing sign-in under a foreign Host still returns to the page the user asked for', async () => {
    const client = new BrowserClient();
    const callback = await callbackUrlFor(client, `${stack.url}/deep/link?q=1`);
    const cookies = client.cookies
      .filter((c) => c.host === '127.0.0.1')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const target = callback.slice(stack.url.length);
    const response = await rawRequest(stack.url, target, { headers: [['Host', 'evil.example'], ['Cookie', cookies]] });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`${stack.url}/deep/link?q=1`);
  });
});
