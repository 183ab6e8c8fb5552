// The admin console lives on admin.host only: every route host (and every other host) answers 404 for
// every spelling of /.trustgate/admin, whoever is signed in; the admin host has its own cookie scope (a
// route host's session or CSRF token never opens it, and its session never opens a route) and serves
// nothing but the console, its sign-in round trip and health checks.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { signedIn } from '../support/break-glass-client.ts';
import { post } from '../support/admin-client.ts';
import { rawRequest } from '../support/raw-request.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const ROUTE_COOKIE = 'trustgate_session';
/** Only a top-level navigation starts a sign-in. */
const NAVIGATION: [string, string][] = [['Sec-Fetch-Dest', 'document'], ['Accept', 'text/html']];
const ADMIN_COOKIE = 'trustgate_session_admin';

/** Spellings that normalise to /.trustgate/admin(/…) or differ only in case: always 404 off the admin host. */
const SPELLINGS = [
  '/.trustgate/admin',
  '/.trustgate/admin/',
  '/.trustgate/admin?x=1',
  '/.trustgate/admin/grants',
  '/.trustgate/admin/grants/revoke',
  '/.trustgate/admin/routes/edit?name=app',
  '/.trustgate/admin/routes/save',
  '/.trustgate/admin/history',
  '/.trustgate/admin/decisions',
  '/.trustgate/admin/sessions',
  '/.trustgate/admin/sessions/revoke',
  '/.trustgate/admin/no-such-page',
  '/.TRUSTGATE/ADMIN/',
  '/.Trustgate/Admin',
  '/.trustgate/Admin/grants',
  '/.trustgate/ADMIN/routes/edit',
  '//.trustgate//admin//',
  '/./.trustgate/./admin/',
  '/%2etrustgate/admin/',
  '/%2Etrustgate/%61dmin',
  '/.trustgate/%41DMIN/grants',
  '/x/../.trustgate/admin/',
  '/public/../.trustgate/admin/grants',
  '/x/%2e%2e/.trustgate/admin',
  '/a/b/../../.trustgate/admin/history',
];

/** Spellings a lenient backend might read as the console: never served or proxied (404, or 400 when refused as ambiguous). */
const AMBIGUOUS = ['/.trustgate/admin;x', '/.trustgate;x/admin/', '/.trustgate./admin', '/.trustgate/admin./', '/.trustgate/admin%20/', '/.trustgate%2Fadmin', '/.trustgate/admin%3Bjsessionid=1'];

let stack: Stack;
let alice: BrowserClient;

beforeAll(async () => {
  stack = await startStack({
    routes: (upstream) => [
      { name: 'app', host: '127.0.0.1', upstream, allowedGroups: ['engineering'], public: ['/public'], websockets: true },
      { name: 'other', host: 'localhost', upstream, allowedGroups: ['engineering'] },
    ],
    session: { cookieDomain: 'localhost' },
  });
  alice = await signedIn(stack, 'alice');
});

afterAll(async () => {
  await stack.close();
});

function cookieOf(client: BrowserClient, name: string): string {
  const value = client.cookie(name)?.value;
  if (!value) throw new Error(`no ${name} cookie`);
  return value;
}

describe('route hosts do not serve the console', () => {
  const hosts = (): string[] => [`127.0.0.1:${stack.port}`, `localhost:${stack.port}`, 'unknown.example.com', `admin.localhost.:${stack.port}`];

  test.each(['GET', 'HEAD', 'POST'])('%s: every spelling of /.trustgate/admin is 404 on every host but the admin host, even for a signed-in admin', async (method) => {
    const cookie = `${ROUTE_COOKIE}=${cookieOf(alice, ROUTE_COOKIE)}`;
    const answers: string[] = [];
    for (const host of hosts()) {
      for (const target of SPELLINGS) {
        const response = await rawRequest(stack.url, target, { method, headers: [['Host', host], ['Cookie', cookie], ['Accept', 'text/html']], ...(method === 'POST' ? { body: 'csrf=x' } : {}) });
        // Another case of the prefix itself is refused before any host logic (400, internal-prefix-spelling).
        const expected = /^\/\.trustgate\//i.test(target) && !target.startsWith('/.trustgate/') ? 400 : 404;
        if (response.status !== expected || !response.headers['x-request-id']) answers.push(`${method} ${host} ${target} -> ${response.status}`);
        if (method !== 'HEAD' && /Routes|Emergency grants/.test(response.body)) answers.push(`${method} ${host} ${target} showed the console`);
      }
      for (const target of AMBIGUOUS) {
        const response = await rawRequest(stack.url, target, { method, headers: [['Host', host], ['Cookie', cookie]] });
        if (![400, 404].includes(response.status)) answers.push(`${method} ${host} ${target} -> ${response.status}`);
      }
    }
    expect(answers).toEqual([]);
  });

  test('an untrusted X-Forwarded-Host naming the admin host does not make a route host the admin host', async () => {
    const response = await rawRequest(stack.url, '/.trustgate/admin/', { headers: [['X-Forwarded-Host', `admin.localhost:${stack.port}`], ['Cookie', `${ROUTE_COOKIE}=${cookieOf(alice, ROUTE_COOKIE)}`]] });
    expect(response.status).toBe(404);
  });

  test('the route hosts still serve the applications and the gateway pages they need', async () => {
    expect((await alice.request(`${stack.url}/`)).status).toBe(200);
    expect((await rawRequest(stack.url, '/.trustgate/healthz')).status).toBe(200);
    const login = await rawRequest(stack.url, `/.trustgate/login?rd=${encodeURIComponent(`${stack.url}/`)}`, { headers: NAVIGATION });
    expect(login.status).toBe(302);
  });
});

describe('the admin host', () => {
  test('an admin signs in there on its own (its callback, its own host-only cookie) and gets the console', async () => {
    const client = new BrowserClient();
    const { response, hops } = await signIn(client, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('data-route="app"');
    expect(hops.some((hop) => hop.url.startsWith(`${stack.adminUrl}/.trustgate/callback?`))).toBe(true);
    const cookie = client.cookie(ADMIN_COOKIE);
    expect(cookie?.host).toBe('admin.localhost');
    // No Domain even though session.cookieDomain is set (the route hosts' cookie carries it).
    expect(cookie?.raw).not.toMatch(/domain=/i);
    expect(cookie?.raw).toMatch(/HttpOnly/i);
    expect(cookie?.raw).toMatch(/Path=\//);
    expect(client.cookie(ROUTE_COOKIE)).toBeUndefined();
    expect(alice.cookie(ROUTE_COOKIE)?.raw).toMatch(/Domain=localhost/i);
  });

  test('a route host session (under either cookie name) does not open the console; it is sent to sign in', async () => {
    const value = cookieOf(alice, ROUTE_COOKIE);
    for (const cookie of [`${ROUTE_COOKIE}=${value}`, `${ADMIN_COOKIE}=${value}`, `${ROUTE_COOKIE}=${value}; ${ADMIN_COOKIE}=${value}`]) {
      for (const page of ['/.trustgate/admin/', '/.trustgate/admin/grants', '/.trustgate/admin/history']) {
        const response = await rawRequest(stack.adminUrl, page, { headers: [['Cookie', cookie], ['Accept', 'text/html']] });
        expect(`${page} ${response.status} ${response.headers.location ?? ''}`).toBe(`${page} 302 /.trustgate/login?rd=${encodeURIComponent(page)}`);
      }
    }
  });

  test("the route host's CSRF token is not the console's, and the console's session does not open a route", async () => {
    const admin = new BrowserClient();
    await signIn(admin, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    const grants = await admin.request(`${stack.adminUrl}/.trustgate/admin/grants`);
    const html = await grants.text();
    expect(grants.status).toBe(200);
    // A token minted for alice's route-host session, posted with her admin-host session: refused.
    const runtime = stack.gateway.runtime();
    const routeSession = await runtime.sessions.read(cookieOf(alice, ROUTE_COOKIE));
    if (!routeSession) throw new Error('alice has no route session');
    const forged = await post(admin, `${stack.adminUrl}/.trustgate/admin/grants/revoke`, [['id', 'x'], ['csrf', runtime.csrf.token(routeSession)], ['return', `${stack.adminUrl}/.trustgate/admin/grants`]]);
    expect(forged.status).toBe(403);
    expect(html).not.toContain(runtime.csrf.token(routeSession));
    // The admin session on a route host, under either name: not signed in there.
    const adminValue = cookieOf(admin, ADMIN_COOKIE);
    for (const cookie of [`${ROUTE_COOKIE}=${adminValue}`, `${ADMIN_COOKIE}=${adminValue}`]) {
      const response = await rawRequest(stack.url, '/', { headers: [['Cookie', cookie], ['Accept', 'text/html']] });
      expect(response.status).toBe(302);
      expect(response.headers.location).toMatch(new RegExp(`^${stack.idp.issuer}`));
    }
  });

  test('serves nothing but the console, its sign-in round trip and health checks', async () => {
    const root = await rawRequest(stack.adminUrl, '/');
    expect([root.status, root.headers.location]).toEqual([302, '/.trustgate/admin/']);
    for (const target of ['/echo', '/public/x', '/reports', '/.trustgate/break-glass', '/.trustgate/metrics', '/.trustgate/no-such-page']) {
      expect(`${target} ${(await rawRequest(stack.adminUrl, target)).status}`).toBe(`${target} 404`);
    }
    for (const target of ['/.trustgate/recheck', '/.trustgate/acknowledge', '/.trustgate/break-glass']) {
      expect(`${target} ${(await rawRequest(stack.adminUrl, target, { method: 'POST', body: 'csrf=x' })).status}`).toBe(`${target} 404`);
    }
    expect((await rawRequest(stack.adminUrl, '/.trustgate/healthz')).status).toBe(200);
    expect((await rawRequest(stack.adminUrl, '/.trustgate/readyz')).status).toBe(200);
    // Sign-in there returns only to the gateway's own origins, and comes back to the admin host's callback.
    expect((await rawRequest(stack.adminUrl, `/.trustgate/login?rd=${encodeURIComponent('http://evil.example/')}`, { headers: NAVIGATION })).status).toBe(400);
    const login = await rawRequest(stack.adminUrl, `/.trustgate/login?rd=${encodeURIComponent('/.trustgate/admin/grants')}`, { headers: NAVIGATION });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.location ?? '').searchParams.get('redirect_uri')).toBe(`${stack.adminUrl}/.trustgate/callback`);
  });

  test('the console on a route host cannot be reached by editing a form from the admin host', async () => {
    const admin = new BrowserClient();
    await signIn(admin, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    const scope = stack.gateway.runtime().adminHost?.plain;
    const adminSession = await scope?.sessions.read(cookieOf(admin, ADMIN_COOKIE));
    if (!scope || !adminSession) throw new Error('alice has no admin session');
    const csrf = scope.csrf.token(adminSession);
    // The admin's token posted to a route host (same session cookie name copied over): 404 before anything else.
    const response = await rawRequest(stack.url, '/.trustgate/admin/grants/revoke', {
      method: 'POST',
      headers: [['Cookie', `${ADMIN_COOKIE}=${cookieOf(admin, ADMIN_COOKIE)}`], ['Content-Type', 'application/x-www-form-urlencoded']],
      body: new URLSearchParams({ id: 'x', csrf, return: `${stack.url}/.trustgate/admin/grants` }).toString(),
    });
    expect(response.status).toBe(404);
  });
});

describe('without admin.host', () => {
  let bare: Stack;
  beforeAll(async () => {
    bare = await startStack({ admin: { host: undefined } });
  });
  afterAll(async () => {
    await bare.close();
  });

  test('no host serves the console, and start-up says so', async () => {
    const admin = await signedIn(bare, 'alice');
    for (const host of [`127.0.0.1:${bare.port}`, `admin.localhost:${bare.port}`, 'admin.localhost']) {
      const response = await rawRequest(bare.url, '/.trustgate/admin/', { headers: [['Host', host], ['Cookie', `${ROUTE_COOKIE}=${cookieOf(admin, ROUTE_COOKIE)}`]] });
      expect(`${host} ${response.status}`).toBe(`${host} 404`);
    }
    expect(bare.logs.some((line) => line.level === 40 && String(line.msg).includes('admin console disabled: admin.host is not set'))).toBe(true);
    expect(bare.adminUrl).toBe('');
  });
});
