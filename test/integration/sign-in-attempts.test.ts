// Each sign-in attempt has its own login state: two tabs signing in at once both finish (in either order), a
// replayed callback fails, a browser cannot pile up attempts without bound, and only a top-level page
// navigation starts a sign-in at all (images, scripts, XHR/fetch, frames and non-GETs get 401).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, callbackUrlFor, openIdpSignIn, pickIdpUser } from '../support/browser-client.ts';
import { rawRequest } from '../support/raw-request.ts';
import { startStack, testClock, type Stack } from '../support/start-stack.ts';

const LOGIN_PREFIX = 'trustgate_session_login_';

describe('parallel sign-in attempts', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({ now: clock.now });
  });
  afterAll(() => stack.close());

  const loginCookies = (client: BrowserClient) => client.cookies.filter((c) => c.name.startsWith(LOGIN_PREFIX));

  for (const order of ['first-started first', 'last-started first'] as const) {
    test(`two attempts in one browser both succeed (${order}); a replayed callback fails`, async () => {
      const client = new BrowserClient();
      const tabOne = await openIdpSignIn(client, `${stack.url}/tab/one`);
      const tabTwo = await openIdpSignIn(client, `${stack.url}/tab/two`);
      const second = await pickIdpUser(client, stack.url, tabTwo);
      const first = await pickIdpUser(client, stack.url, tabOne);
      expect(loginCookies(client)).toHaveLength(2);
      expect(loginCookies(client).every((c) => c.path === '/.trustgate/callback' && /HttpOnly/i.test(c.raw) && /Max-Age=600/i.test(c.raw))).toBe(true);
      const steps = order === 'first-started first' ? [[first, '/tab/one'], [second, '/tab/two']] : [[second, '/tab/two'], [first, '/tab/one']];
      for (const [callback, landing] of steps) {
        const response = await client.request(callback ?? '');
        expect(response.status, landing).toBe(302);
        expect(response.headers.get('location'), landing).toBe(`${stack.url}${landing}`);
        expect(client.cookie('trustgate_session')?.value, landing).toBeTruthy();
      }
      expect(loginCookies(client)).toHaveLength(0);

      const replayed = await client.request(first, { headers: { accept: 'application/json' } });
      expect(replayed.status).toBe(400);
      expect(await replayed.json()).toMatchObject({ error: 'TG_ERR_SIGNIN_FAILED', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    });
  }

  test('a callback replayed with the attempt cookie captured before use fails too', async () => {
    const client = new BrowserClient();
    const callback = await callbackUrlFor(client, stack.url, `${stack.url}/tab/replay`);
    const cookie = loginCookies(client).map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await client.request(callback)).status).toBe(302);
    const replayed = await fetch(callback, { redirect: 'manual', headers: { cookie, accept: 'application/json' } });
    expect(replayed.status).toBe(400);
    expect(replayed.headers.get('location')).toBeNull();
  });

  test('a browser keeps at most 8 attempts: a callback clears the oldest beyond that', async () => {
    const client = new BrowserClient();
    for (let i = 0; i < 11; i++) {
      clock.advance(1_000);
      const response = await client.request(`${stack.url}/many/${i}`);
      expect(response.status).toBe(302);
    }
    const started = loginCookies(client).map((c) => c.name);
    expect(started).toHaveLength(11);
    const callback = await callbackUrlFor(client, stack.url, `${stack.url}/many/last`);
    const response = await client.request(callback);
    expect(response.status).toBe(302);
    const cleared = response.headers.getSetCookie().filter((c) => c.startsWith(LOGIN_PREFIX) && /Max-Age=0/i.test(c)).map((c) => c.slice(0, c.indexOf('=')));
    // The one used, and the four oldest: 7 other attempts stay for other tabs.
    expect(cleared).toHaveLength(5);
    expect(cleared).toEqual(expect.arrayContaining(started.slice(0, 4)));
    expect(loginCookies(client)).toHaveLength(7);
  });
});

describe('only top-level navigations start a sign-in', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const navigations: [string, [string, string][]][] = [
    ['Chromium page load', [['Accept', html], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Site', 'none'], ['Sec-Fetch-User', '?1']]],
    ['link from another site', [['Accept', html], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Site', 'cross-site']]],
    ['Dest document only', [['Sec-Fetch-Dest', 'document']]],
    ['Mode navigate only', [['Accept', html], ['Sec-Fetch-Mode', 'navigate']]],
    ['no fetch metadata, Accept text/html', [['Accept', html]]],
    ['no fetch metadata, Accept TEXT/HTML', [['Accept', 'TEXT/HTML']]],
  ];
  const others: [string, string, [string, string][]][] = [
    ['GET', 'image', [['Accept', 'image/avif,image/webp,*/*'], ['Sec-Fetch-Dest', 'image'], ['Sec-Fetch-Mode', 'no-cors']]],
    ['GET', 'favicon', [['Accept', 'image/*'], ['Sec-Fetch-Dest', 'image'], ['Sec-Fetch-Mode', 'no-cors']]],
    ['GET', 'script', [['Accept', '*/*'], ['Sec-Fetch-Dest', 'script'], ['Sec-Fetch-Mode', 'no-cors']]],
    ['GET', 'module script', [['Accept', '*/*'], ['Sec-Fetch-Dest', 'script'], ['Sec-Fetch-Mode', 'cors']]],
    ['GET', 'stylesheet', [['Accept', 'text/css,*/*;q=0.1'], ['Sec-Fetch-Dest', 'style'], ['Sec-Fetch-Mode', 'no-cors']]],
    ['GET', 'font', [['Accept', '*/*'], ['Sec-Fetch-Dest', 'font'], ['Sec-Fetch-Mode', 'cors']]],
    ['GET', 'iframe', [['Accept', html], ['Sec-Fetch-Dest', 'iframe'], ['Sec-Fetch-Mode', 'navigate']]],
    ['GET', 'frame', [['Accept', html], ['Sec-Fetch-Dest', 'frame'], ['Sec-Fetch-Mode', 'navigate']]],
    ['GET', 'object', [['Accept', html], ['Sec-Fetch-Dest', 'object'], ['Sec-Fetch-Mode', 'no-cors']]],
    ['GET', 'fetch() asking for HTML', [['Accept', html], ['Sec-Fetch-Dest', 'empty'], ['Sec-Fetch-Mode', 'cors']]],
    ['GET', 'same-origin fetch', [['Accept', '*/*'], ['Sec-Fetch-Dest', 'empty'], ['Sec-Fetch-Mode', 'same-origin']]],
    ['GET', 'XHR without fetch metadata', [['Accept', html], ['X-Requested-With', 'XMLHttpRequest']]],
    ['GET', 'Mode cors only, Accept text/html', [['Accept', html], ['Sec-Fetch-Mode', 'cors']]],
    ['GET', 'Mode no-cors only', [['Accept', html], ['Sec-Fetch-Mode', 'no-cors']]],
    ['GET', 'worker', [['Accept', '*/*'], ['Sec-Fetch-Dest', 'worker'], ['Sec-Fetch-Mode', 'same-origin']]],
    ['GET', 'manifest', [['Accept', '*/*'], ['Sec-Fetch-Dest', 'manifest'], ['Sec-Fetch-Mode', 'cors']]],
    ['GET', 'no fetch metadata, Accept */*', [['Accept', '*/*']]],
    ['GET', 'no headers at all', []],
    ['GET', 'API client', [['Accept', 'application/json']]],
    ['HEAD', 'HEAD navigation', [['Accept', html], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate']]],
    ['POST', 'form post', [['Accept', html], ['Sec-Fetch-Dest', 'document'], ['Sec-Fetch-Mode', 'navigate'], ['Content-Type', 'application/x-www-form-urlencoded']]],
    ['PUT', 'PUT', [['Accept', html]]],
    ['DELETE', 'DELETE', [['Accept', html]]],
    ['OPTIONS', 'preflight', [['Access-Control-Request-Method', 'GET']]],
  ];

  test.each(navigations)('%s: 302 to the IdP with a login cookie', async (_name, headers) => {
    const response = await rawRequest(stack.url, '/page', { headers });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.location ?? '').origin).toBe(stack.idp.issuer);
    expect(String(response.headers['set-cookie'])).toContain(LOGIN_PREFIX);
  });

  test.each(others)('%s %s: 401 with a request id and no login cookie', async (method, _name, headers) => {
    for (const target of ['/page', '/favicon.ico', `/.trustgate/login?rd=${encodeURIComponent('/page')}`]) {
      const response = await rawRequest(stack.url, target, { method, headers, body: method === 'POST' || method === 'PUT' ? 'a=1' : undefined });
      expect(response.status, target).toBe(target.startsWith('/.trustgate/') && method !== 'GET' ? 405 : 401);
      expect(response.headers.location, target).toBeUndefined();
      expect(String(response.headers['set-cookie'] ?? ''), target).not.toContain('_login');
      expect(response.headers['x-request-id'], target).toMatch(/^[0-9a-f-]{36}$/);
      if (method !== 'HEAD') expect(response.body, target).toMatch(/[0-9a-f-]{36}/);
    }
  });

  test('the 401 is JSON for clients that ask for JSON', async () => {
    const response = await rawRequest(stack.url, '/api/data', { headers: [['Accept', 'application/json'], ['Sec-Fetch-Dest', 'empty'], ['Sec-Fetch-Mode', 'cors']] });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'TG_ERR_UNAUTHENTICATED', reasons: ['session-missing'], requestId: response.headers['x-request-id'] });
  });
});
