// The return address after sign-in cannot be pointed off the gateway: /.trustgate/login?rd= refuses
// every open-redirect form, a good rd lands exactly there, and a foreign Host header steers nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, callbackUrlFor, signIn } from '../support/browser-client.ts';
import { openRedirectForms } from '../support/open-redirect-forms.ts';
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

  test('every open-redirect form is refused with 400 and no redirect', async () => {
    for (const rd of openRedirectForms(stack.port)) {
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
      const callback = await callbackUrlFor(client, stack.url, loginUrl(rd));
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
    expect(sneaky.status).toBe(400);
    expect(sneaky.headers.location).toBeUndefined();
  });

  test('finishing sign-in under a foreign Host still returns to the page the user asked for', async () => {
    const client = new BrowserClient();
    const callback = await callbackUrlFor(client, stack.url, `${stack.url}/deep/link?q=1`);
    const cookies = client.cookies
      .filter((c) => c.host === '127.0.0.1')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const target = callback.slice(stack.url.length);
    const response = await rawRequest(stack.url, target, { headers: [['Host', 'evil.example'], ['Cookie', cookies]] });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`${stack.url}/deep/link?q=1`);
  });

  test('the break-glass form takes a return URL on the exact origin only', async () => {
    for (const ret of [`http://127.0.0.1:${stack.port + 1}/x`, `https://127.0.0.1:${stack.port}/x`, 'http://evil.example/x', `http://127.0.0.1.:${stack.port}/x`]) {
      const response = await fetch(`${stack.url}/.trustgate/break-glass?return=${encodeURIComponent(ret)}`, { redirect: 'manual', headers: { accept: 'application/json' } });
      expect(response.status, ret).toBe(400);
      expect(response.headers.get('location'), ret).toBeNull();
    }
  });

  // Hosts a client can name that are not an origin the gateway is configured for.
  const foreignHosts = (port: number): string[] => ['evil.example', `evil.example:${port}`, '127.0.0.1:1', `127.0.0.1:${port + 1}`, `127.0.0.1:0${port}`, `127.0.0.1.:${port}`, `127.0.0.1:${port}.evil.example`, `127.0.0.1:${port}@evil.example`, 'localhost', `LOCALHOST:${port}`];
  const navigation: [string, string][] = [['Accept', 'text/html'], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate']];

  test('a foreign Host header never becomes a redirect, a redirect_uri or a login cookie', async () => {
    for (const host of foreignHosts(stack.port)) {
      for (const target of ['/', '/some/page?x=1', `/.trustgate/login?rd=${encodeURIComponent('/x')}`]) {
        const response = await rawRequest(stack.url, target, { headers: [['Host', host], ...navigation] });
        expect([400, 404], `${host} ${target}`).toContain(response.status);
        expect(response.headers.location, `${host} ${target}`).toBeUndefined();
        expect(String(response.headers['set-cookie'] ?? ''), `${host} ${target}`).not.toContain('_login_');
        expect(response.headers['x-request-id'], `${host} ${target}`).toMatch(/^[0-9a-f-]{36}$/);
      }
    }
  });

  test('sign-out under a foreign Host names no host of its own choosing', async () => {
    for (const host of foreignHosts(stack.port)) {
      for (const method of ['GET', 'POST']) {
        const response = await rawRequest(stack.url, '/.trustgate/logout', { method, headers: [['Host', host], ['Accept', 'text/html']], body: method === 'POST' ? '' : undefined });
        const location = response.headers.location ?? '';
        expect(location.toLowerCase(), `${method} ${host}`).not.toContain(host.toLowerCase().replace(/:.*/, ''));
        expect(location, `${method} ${host}`).not.toMatch(/^(https?:)?\/\//i);
      }
    }
  });

  test('X-Forwarded-Host from a client that is not a trusted proxy steers nothing', async () => {
    const response = await rawRequest(stack.url, '/some/page', { headers: [['X-Forwarded-Host', 'evil.example'], ['X-Forwarded-Proto', 'https'], ...navigation] });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.location ?? '');
    expect(location.origin).toBe(stack.idp.issuer);
    expect(location.searchParams.get('redirect_uri')).toBe(`${stack.url}/.trustgate/callback`);
  });
});

