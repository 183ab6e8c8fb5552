// Request paths through the real gateway: what the upstream receives is the path the decision was made
// on, public paths cannot be reached sideways with "..", and odd targets get clear 400/404 answers.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EchoResponse } from '../../src/dev/demo-app.ts';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { rawRequest, socketRequest } from '../support/raw-request.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const REQUEST_ID_IN_PAGE = /Request id: <code data-testid="request-id">[0-9a-f-]{36}<\/code>/;

describe('request paths', () => {
  let stack: Stack;
  let cookie: string;

  beforeAll(async () => {
    stack = await startStack();
    const client = new BrowserClient();
    const { response } = await signIn(client, `${stack.url}/`, 'alice');
    expect(response.status).toBe(200);
    cookie = `trustgate_session=${client.cookie('trustgate_session')?.value ?? ''}`;
  });
  afterAll(() => stack.close());

  async function echoOf(target: string): Promise<EchoResponse> {
    const response = await rawRequest(stack.url, target, { headers: [['Cookie', cookie], ['Accept', 'application/json']] });
    expect(response.status, response.body).toBe(200);
    return JSON.parse(response.body) as EchoResponse;
  }

  test('dot segments are resolved before the upstream sees the path', async () => {
    expect((await echoOf('/a/../echo/x')).url).toBe('/echo/x');
    expect((await echoOf('/echo/./y/../x')).url).toBe('/echo/x');
    expect((await echoOf('/a/%2e%2e/echo/x')).url).toBe('/echo/x');
  });

  test('repeated slashes are collapsed; the query is forwarded untouched', async () => {
    expect((await echoOf('/echo//x///y')).url).toBe('/echo/x/y');
    expect((await echoOf('/echo/x/?a=1&b=%2F//c')).url).toBe('/echo/x/?a=1&b=%2F//c');
  });

  test('double-encoded dots reach the upstream still encoded, never as ".."', async () => {
    expect((await echoOf('/echo/%252e%252e/x')).url).toBe('/echo/%252e%252e/x');
  });

  test('a public path cannot be used to reach a protected one with ".."', async () => {
    const anonymous = { headers: [['Accept', 'text/html']] as [string, string][] };
    const publicPage = await rawRequest(stack.url, '/public/page', anonymous);
    expect(publicPage.status).toBe(200);
    expect(publicPage.body).toBe('public');

    for (const target of ['/public/../echo/secret', '/public/%2e%2e/echo/secret', '/public/./../echo/secret', '//public/..//echo/secret']) {
      const response = await rawRequest(stack.url, target, anonymous);
      expect(response.status, target).toBe(302);
      expect(new URL(response.headers.location ?? '').origin, target).toBe(stack.idp.issuer);
    }
    const api = await rawRequest(stack.url, '/public/../echo/secret', { headers: [['Accept', 'application/json']] });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'TG_ERR_UNAUTHENTICATED' });
  });

  const rejected = [
    '/echo/a%2Fb',
    '/echo/a%2fb',
    '/echo/a%5Cb',
    '/echo/a\\b',
    '/echo/a%00b',
    '/echo/a%zz',
    '/echo/%E0%A4%A',
    '/echo/%C0%AE%C0%AE/x',
    '/..',
    '/echo/../../x',
    '/echo/a%01b',
    'http://evil/',
  ];

  test.each(rejected)('%s gets a 400 page with a request id, and never reaches the upstream', async (target) => {
    const page = await rawRequest(stack.url, target, { headers: [['Cookie', cookie], ['Accept', 'text/html']] });
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(page.body).toContain('Bad request path');
    expect(page.body).toMatch(REQUEST_ID_IN_PAGE);
    expect(page.body).toContain(String(page.headers['x-request-id']));
    expect(page.body).not.toContain('"rawHeaders"');

    const json = await rawRequest(stack.url, target, { headers: [['Cookie', cookie], ['Accept', 'application/json']] });
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body)).toMatchObject({ error: 'TG_ERR_BAD_PATH', requestId: json.headers['x-request-id'] });
  });

  test('an asterisk-form target is refused', async () => {
    const response = await rawRequest(stack.url, '*', { method: 'OPTIONS', headers: [['Accept', 'application/json']] });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'TG_ERR_BAD_PATH' });
  });

  test('raw control characters in the target never get an answer from the upstream', async () => {
    const answer = await socketRequest(stack.url, `GET /echo/a\x01b HTTP/1.1\r\nHost: 127.0.0.1:${stack.port}\r\nCookie: ${cookie}`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).not.toContain('rawHeaders');
  });

  test('an unknown host gets the 404 page', async () => {
    const page = await rawRequest(stack.url, '/echo/x', { headers: [['Host', 'unknown.example'], ['Accept', 'text/html']] });
    expect(page.status).toBe(404);
    expect(page.body).toContain('No such application');
    expect(page.body).toMatch(REQUEST_ID_IN_PAGE);
    const json = await rawRequest(stack.url, '/echo/x', { headers: [['Host', 'unknown.example'], ['Accept', 'application/json']] });
    expect(JSON.parse(json.body)).toMatchObject({ error: 'TG_ERR_NO_ROUTE' });
  });

  test('a Host whose "port" is not a number is not the route host (refused as no host at all)', async () => {
    for (const host of [`127.0.0.1:${stack.port}@evil.example`, '127.0.0.1:evil.example', '127.0.0.1:']) {
      const response = await rawRequest(stack.url, '/echo/x', { headers: [['Host', host], ['Cookie', cookie], ['Accept', 'application/json']] });
      expect(response.status, host).toBe(400);
      expect(JSON.parse(response.body), host).toMatchObject({ error: 'TG_ERR_BAD_REQUEST', reason: 'invalid-host' });
    }
  });

  test('an unknown gateway page is 404, not forwarded', async () => {
    const response = await rawRequest(stack.url, '/.trustgate/nope', { headers: [['Cookie', cookie], ['Accept', 'application/json']] });
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'TG_ERR_NO_ROUTE' });
  });

  test('a path that normalises into /.trustgate/ is answered by the gateway', async () => {
    for (const target of ['/x/../.trustgate/healthz', '/echo/%2e%2e/.trustgate/healthz', '//.trustgate//healthz']) {
      const response = await rawRequest(stack.url, target, { headers: [['Cookie', cookie], ['Accept', 'application/json']] });
      expect(response.status, target).toBe(200);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect(body, target).toMatchObject({ status: 'ok' });
      expect(body, target).not.toHaveProperty('rawHeaders');
    }
  });
});

// A layout where a wrong match is a bypass: "/" is public, "/admin" and "/app" are protected, and "/app"
// holds a public path ("/app/public") and a public route ("/app/docs"). dave is allowed on none of the
// protected routes, alice on all of them.
describe('other spellings of the internal prefix are refused, never proxied', () => {
  let stack: Stack;
  let cookie: string;
  beforeAll(async () => {
    stack = await startStack();
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'alice');
    cookie = `trustgate_session=${client.cookie('trustgate_session')?.value ?? ''}`;
  });
  afterAll(() => stack.close());

  const SPELLINGS = [
    '/.TRUSTGATE/login', '/.TrustGate/healthz', '/.Trustgate', '/.TRUSTGATE', '/.trustgatE/admin', '/.TRUSTGATE/admin/sessions',
    '/%2ETRUSTGATE/healthz', '/.trustgat%45/healthz', '/.trustgate%252E/healthz', '/.TRUSTGATE%252e/', '/.trustgate.json', '/.TRUSTGATE.json/x',
    '/.trustgate%2E/', '/.trustgate%20/healthz', '/x/../.TRUSTGATE/healthz', '//.TrustGate//healthz', '/.trustgate;x/healthz', '/.TRUSTGATE%3Bx/healthz',
  ];
  const hosts = (): Array<[string, string]> => [['route host', `127.0.0.1:${stack.port}`], ['admin host', `admin.localhost:${stack.port}`]];

  test.each(SPELLINGS)('%s: 400 with a request id and a reason, on the route host and the admin host', async (target) => {
    for (const [name, host] of hosts()) {
      const response = await rawRequest(stack.url, target, { headers: [['Host', host], ['Cookie', cookie], ['Accept', 'application/json']] });
      expect({ name, status: response.status }).toEqual({ name, status: 400 });
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect(body).toMatchObject({ error: 'TG_ERR_BAD_PATH', requestId: response.headers['x-request-id'] });
      expect(typeof body.reason).toBe('string');
      expect(response.body).not.toContain('rawHeaders');
    }
  });

  test.each(SPELLINGS)('%s as a WebSocket upgrade: 400 with a request id and a reason, on both hosts', async (target) => {
    for (const [name, host] of hosts()) {
      const head = `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nOrigin: http://${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==`;
      const answer = await socketRequest(stack.url, head);
      expect(answer.split('\r\n')[0], name).toBe('HTTP/1.1 400 Bad Request');
      expect(answer, name).toMatch(/[0-9a-f-]{36}/);
      expect(answer, name).toMatch(/"error":"TG_ERR_BAD_PATH".*"reason":"[^"]+"/);
    }
  });

  test('case variants name the reason internal-prefix-spelling; the exact prefix still reaches the gateway', async () => {
    const refused = await rawRequest(stack.url, '/.TRUSTGATE/healthz', { headers: [['Accept', 'application/json']] });
    expect(JSON.parse(refused.body)).toMatchObject({ reason: 'internal-prefix-spelling' });
    const health = await rawRequest(stack.url, '/.trustgate/healthz', { headers: [['Accept', 'application/json']] });
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    // An app path that merely starts with the word is no spelling of the prefix.
    expect((await rawRequest(stack.url, '/.trustgateway/x', { headers: [['Cookie', cookie], ['Accept', 'application/json']] })).status).toBe(200);
  });
});

describe('path spellings that could reach a looser route', () => {
  let stack: Stack;
  let alice: string;
  let dave: string;

  beforeAll(async () => {
    stack = await startStack({
      routes: (upstream) => [
        { name: 'site', host: '127.0.0.1', upstream, allowAnyAuthenticatedUser: true, public: ['/'] },
        { name: 'admin', host: '127.0.0.1', pathPrefix: '/admin', upstream, allowedGroups: ['trustgate-admins'] },
        { name: 'app', host: '127.0.0.1', pathPrefix: '/app', upstream, allowedGroups: ['trustgate-admins'], public: ['/app/public'] },
        { name: 'app-docs', host: '127.0.0.1', pathPrefix: '/app/docs', upstream, allowAnyAuthenticatedUser: true, public: ['/app/docs'] },
      ],
    });
    const cookieOf = async (user: string): Promise<string> => {
      const client = new BrowserClient();
      await signIn(client, `${stack.url}/app/`, user);
      return `trustgate_session=${client.cookie('trustgate_session')?.value ?? ''}`;
    };
    alice = await cookieOf('alice');
    dave = await cookieOf('dave');
  });
  afterAll(() => stack.close());

  const REFUSED = 'refused';
  type Expected = typeof REFUSED | { route: string; path: string };
  const spellings: [string, Expected][] = [
    // Letter case of a stricter prefix (IIS, case-insensitive file systems and frameworks serve it as /admin).
    ['/ADMIN', REFUSED],
    ['/Admin/users', REFUSED],
    ['/aDmIn/', REFUSED],
    ['/%41DMIN', REFUSED],
    ['/adm%49n/x', REFUSED],
    ['/adm%C4%B1n', REFUSED], // dotless ı upper-cases to I
    ['/APP/public/../secret', REFUSED],
    ['/app/PUBLIC/secret', REFUSED],
    ['/app/Public', REFUSED],
    ['/app/DOCS/secret', REFUSED],
    ['/APP/docs', REFUSED],
    // Path parameters, raw and encoded.
    ['/admin;x', REFUSED],
    ['/admin;jsessionid=1', REFUSED],
    ['/adm;x/in', REFUSED],
    ['/public;x/../admin', REFUSED],
    ['/admin%3Bx', REFUSED],
    ['/admin%3b', REFUSED],
    ['/app/public;x/../secret', REFUSED],
    ['/app/public/..;/secret', REFUSED],
    ['/app/public/%2e%2e%3b/secret', REFUSED],
    ['/app/docs;/../secret', REFUSED],
    // Trailing dots and spaces, raw, encoded and mixed.
    ['/admin.', REFUSED],
    ['/admin..', REFUSED],
    ['/admin./x', REFUSED],
    ['/admin%2e', REFUSED],
    ['/admin%2E/x', REFUSED],
    ['/admin%20', REFUSED],
    ['/admin%20/x', REFUSED],
    ['/admin%09', REFUSED],
    ['/ADMIN.', REFUSED],
    ['/Admin%20.', REFUSED],
    ['/app/public./../secret', REFUSED],
    // Format suffixes (Rails "(.:format)", Spring suffix patterns serve /admin.json as /admin).
    ['/admin.json', REFUSED],
    ['/ADMIN.html', REFUSED],
    ['/app/docs.json', REFUSED],
    // Double encoding, read by backends that decode twice.
    ['/%2561dmin', REFUSED],
    ['/admin%252e', REFUSED],
    ['/app/%2570ublic', REFUSED],
    ['/app/public/%252e%252e/secret', REFUSED],
    // Unicode look-alikes and overlong UTF-8.
    ['/%EF%BC%A1DMIN', REFUSED],
    ['/public%EF%BC%8F..%EF%BC%8Fadmin', REFUSED],
    ['/app/public/%EF%BC%8E%EF%BC%8E/secret', REFUSED],
    ['/%C0%AFadmin', REFUSED],
    ['/%C1%A1dmin', REFUSED],
    ['/%u0061dmin', REFUSED],
    // Windows file-name aliases.
    ['/admin::$DATA', REFUSED],
    ['/ADMINI~1', REFUSED],
    // Spellings that decode to exactly the stricter route: decided and forwarded as that path.
    ['/%61dmin', { route: 'admin', path: '/admin' }],
    ['/%61dmin/x', { route: 'admin', path: '/admin/x' }],
    ['/public/../admin/x', { route: 'admin', path: '/admin/x' }],
    ['//admin//x', { route: 'admin', path: '/admin/x' }],
    ['/app/public/../secret', { route: 'app', path: '/app/secret' }],
    ['/app/docs/../secret', { route: 'app', path: '/app/secret' }],
    ['/app/%64ocs/../secret', { route: 'app', path: '/app/secret' }],
    ['/admin/report.json', { route: 'admin', path: '/admin/report.json' }],
  ];

  async function ask(target: string, cookie?: string) {
    return rawRequest(stack.url, target, { headers: [['Accept', 'application/json'], ...(cookie ? [['Cookie', cookie] as [string, string]] : [])] });
  }

  test.each(spellings)('%s: refused, or decided and forwarded as the stricter route', async (target, expected) => {
    if (expected === REFUSED) {
      for (const cookie of [undefined, dave, alice]) {
        const response = await ask(target, cookie);
        expect(response.status, response.body).toBe(400);
        const body = JSON.parse(response.body) as Record<string, unknown>;
        expect(body).toMatchObject({ error: 'TG_ERR_BAD_PATH', requestId: response.headers['x-request-id'] });
        expect(body.reason).toEqual(expect.any(String));
        expect(response.body).not.toContain('rawHeaders');
      }
      return;
    }
    const anonymous = await ask(target);
    expect(anonymous.status, anonymous.body).toBe(401);
    const outsider = await ask(target, dave);
    expect(outsider.status, outsider.body).toBe(403);
    expect(stack.decisions().at(-1)).toMatchObject({ route: expected.route, verdict: 'deny' });
    const insider = await ask(target, alice);
    expect(insider.status, insider.body).toBe(200);
    expect((JSON.parse(insider.body) as EchoResponse).url).toBe(expected.path);
    expect(stack.decisions().at(-1)).toMatchObject({ route: expected.route, verdict: 'allow' });
  });

  test('the looser routes still answer their own exact spellings', async () => {
    for (const [target, route] of [['/', 'site'], ['/about.html', 'site'], ['/app/public/x', 'app'], ['/app/docs/guide', 'app-docs'], ['/administrator', 'site']] as const) {
      const response = await ask(target);
      expect(response.status, target).toBe(200);
      expect((JSON.parse(response.body) as EchoResponse).url, target).toBe(target);
      expect(stack.decisions().at(-1), target).toMatchObject({ route });
    }
  });

  test('a refused spelling gets an HTML page with the reason and the request id', async () => {
    const page = await rawRequest(stack.url, '/ADMIN', { headers: [['Accept', 'text/html']] });
    expect(page.status).toBe(400);
    expect(page.body).toContain('Bad request path');
    expect(page.body).toContain('letter case');
    expect(page.body).toMatch(REQUEST_ID_IN_PAGE);
  });
});
