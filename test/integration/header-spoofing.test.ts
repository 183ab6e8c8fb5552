// Identity and forwarding headers a client makes up never reach the upstream, in any spelling; the
// gateway's cookies stay with the gateway; X-Forwarded-For is believed only from trusted proxies.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EchoResponse } from '../../src/dev/demo-app.ts';
import { PROTECTED_HEADERS, foldHeaderName } from '../../src/pipeline/act/header-filter.ts';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { CASES, SEPARATORS, concreteName, mixedSpellings, withSeparator } from '../support/header-spellings.ts';
import { rawRequest } from '../support/raw-request.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const SPOOFED: [string, string][] = [
  ['X-Trustgate-User', 'admin'],
  ['x-trustgate-user', 'root'],
  ['x_trustgate_email', 'evil@x'],
  ['X-TRUSTGATE-GROUPS', 'admins'],
  ['X_TRUSTGATE_GROUPS', 'admins'],
  ['X-Trustgate-Anything', '1'],
  ['X-Forwarded-For', '6.6.6.6'],
  ['x_forwarded_for', '6.6.6.7'],
  ['X_Forwarded_Host', 'evil'],
  ['X-Forwarded-Host', 'evil'],
  ['X-Forwarded-Proto', 'https'],
  ['X-Forwarded-Port', '1'],
  ['Forwarded', 'for=6.6.6.6;host=evil;proto=https'],
  ['X-Real-IP', '6.6.6.6'],
  ['x_real_ip', '6.6.6.6'],
  ['X-Request-Id', 'spoof'],
];

/** Every value the upstream received for `name`, matching any case and "_" for "-". */
function rawValues(echo: EchoResponse, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < echo.rawHeaders.length; i += 2) {
    const received = (echo.rawHeaders[i] ?? '').toLowerCase().replace(/_/g, '-');
    if (received === name) values.push(echo.rawHeaders[i + 1] ?? '');
  }
  return values;
}

function rawNames(echo: EchoResponse): string[] {
  return echo.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replace(/_/g, '-'));
}

async function signedInCookie(stack: Stack, user: string): Promise<string> {
  const client = new BrowserClient();
  const { response } = await signIn(client, `${stack.url}/`, user);
  expect(response.status).toBe(200);
  const value = client.cookie('trustgate_session')?.value;
  expect(value).toBeTruthy();
  return `trustgate_session=${value ?? ''}`;
}

/** Every protected name (and the configured stripHeaders and certificate header), one concrete name each. */
const STRIPPED = [...PROTECTED_HEADERS, 'X-Company-Role', 'X-Internal-*', 'X-Client-Cert'].map(concreteName);
/** Headers that only look alike: they must arrive untouched. */
const UNRELATED: [string, string][] = [
  ['Remote-Addr-Info', 'kept-1'], ['X-Custom', 'kept-2'], ['Accept-Language', 'kept-3'], ['X-Requested-With', 'kept-4'],
  ['X-Trust', 'kept-5'], ['Remote-Users', 'kept-6'], ['X-Company', 'kept-7'], ['X-Real', 'kept-8'], ['X-WebAuthn-Challenge', 'kept-9'],
];
/** What the gateway itself sets, folded: the upstream gets exactly one copy each, with the gateway's value. */
const GATEWAY_SET = new Set(['xtrustgateuser', 'xtrustgateemail', 'xtrustgategroups', 'xforwardedfor', 'xforwardedproto', 'xforwardedhost', 'xrequestid']);

/** Each separator and case, and the mixed spellings, as one request's worth of forged headers each. */
const SPELLING_TABLE: [string, (name: string) => string][] = [
  ...SEPARATORS.flatMap((separator) =>
    Object.entries(CASES).map(([caseName, variant]): [string, (name: string) => string] => [`separator ${JSON.stringify(separator)}, ${caseName}`, (name) => variant(withSeparator(name, separator))]),
  ),
  ...[0, 1, 2, 3, 4].map((i): [string, (name: string) => string] => [`mixed spelling ${i}`, (name) => mixedSpellings(name)[i] ?? `${name}_`]),
];

describe('header spoofing', () => {
  let stack: Stack;
  let session: string;

  beforeAll(async () => {
    stack = await startStack({ route: { public: ['/public', '/echo/open'] }, stripHeaders: ['X-Company-Role', 'X-Internal-*'] });
    session = await signedInCookie(stack, 'alice');
  });
  afterAll(() => stack.close());

  async function echo(target: string, headers: [string, string][]): Promise<EchoResponse> {
    const response = await rawRequest(stack.url, target, { headers: [...headers, ['Accept', 'application/json']] });
    expect(response.status, response.body).toBe(200);
    return JSON.parse(response.body) as EchoResponse;
  }

  test('a signed-in user cannot claim another identity or forge forwarding headers', async () => {
    const seen = await echo('/echo/spoof', [['Cookie', session], ...SPOOFED]);
    expect(seen.headers['x-trustgate-user']).toBe('alice');
    expect(seen.headers['x-trustgate-email']).toBe('alice@example.com');
    expect(seen.headers['x-trustgate-groups']).toBe('engineering,trustgate-admins');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(`127.0.0.1:${stack.port}`);
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    // Exactly one copy of each gateway header, in any spelling, and none of the invented ones.
    expect(rawValues(seen, 'x-trustgate-user')).toEqual(['alice']);
    expect(rawValues(seen, 'x-trustgate-email')).toEqual(['alice@example.com']);
    expect(rawValues(seen, 'x-trustgate-groups')).toEqual(['engineering,trustgate-admins']);
    expect(rawValues(seen, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(seen, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawValues(seen, 'x-forwarded-host')).toEqual([`127.0.0.1:${stack.port}`]);
    expect(rawValues(seen, 'x-request-id')).toEqual([seen.headers['x-request-id']]);
    expect(rawValues(seen, 'x-trustgate-anything')).toEqual([]);
    expect(rawValues(seen, 'x-forwarded-port')).toEqual([]);
    expect(rawValues(seen, 'x-real-ip')).toEqual([]);
    expect(rawValues(seen, 'forwarded')).toEqual([]);
    expect(rawNames(seen).some((n) => n.startsWith('x-trustgate-') && !['x-trustgate-user', 'x-trustgate-email', 'x-trustgate-groups'].includes(n))).toBe(false);

    const everything = JSON.stringify(seen.rawHeaders);
    for (const forged of ['admin"', 'root', 'evil', '6.6.6.', 'spoof', 'https']) expect(everything).not.toContain(forged);
  });

  test.each(SPELLING_TABLE)('no protected header reaches the upstream when spelled with %s', async (_label, spell) => {
    const forged = STRIPPED.map((name, i): [string, string] => [spell(name), `forged-${i}`]);
    const seen = await echo('/echo/spellings', [['Cookie', session], ...forged, ...UNRELATED]);
    expect(JSON.stringify(seen.rawHeaders)).not.toContain('forged-');
    for (const [name, value] of UNRELATED) expect(rawValues(seen, name.toLowerCase())).toEqual([value]);
    const received = rawNames(seen).map(foldHeaderName);
    expect(received.filter((n) => GATEWAY_SET.has(n)).sort()).toEqual([...GATEWAY_SET].sort());
    expect(seen.headers['x-trustgate-user']).toBe('alice');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  test('headers named in Connection are dropped, so a proxy behind the gateway cannot be told to delete identity', async () => {
    const seen = await echo('/echo/connection', [
      ['Cookie', session],
      ['Connection', 'keep-alive, X-Trustgate-User, X-Forwarded-For, X-App-Secret'],
      ['X-App-Secret', 'hop-by-hop'],
    ]);
    expect(seen.headers['x-trustgate-user']).toBe('alice');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(rawValues(seen, 'x-app-secret')).toEqual([]);
    expect(rawValues(seen, 'connection').join(',')).not.toMatch(/trustgate|forwarded/i);
  });

  test('a request that is not an upgrade passes no Upgrade or HTTP2-Settings header on (no h2c switch behind the gateway)', async () => {
    const seen = await echo('/echo/h2c', [['Cookie', session], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA'], ['Connection', 'HTTP2-Settings']]);
    expect(seen.headers['x-trustgate-user']).toBe('alice');
    expect(rawValues(seen, 'upgrade')).toEqual([]);
    expect(rawValues(seen, 'http2-settings')).toEqual([]);
  });

  test('path-override and client-IP headers some frameworks trust are removed', async () => {
    const seen = await echo('/echo/overrides', [
      ['Cookie', session],
      ['X-Original-URL', '/admin'],
      ['X-Rewrite-URL', '/admin'],
      ['True-Client-IP', '6.6.6.6'],
      ['X-Client-IP', '6.6.6.6'],
      ['CF-Connecting-IP', '6.6.6.6'],
    ]);
    for (const name of ['x-original-url', 'x-rewrite-url', 'true-client-ip', 'x-client-ip', 'cf-connecting-ip']) {
      expect(rawValues(seen, name)).toEqual([]);
    }
  });

  test('an anonymous request to a public path carries no identity at all, forged or otherwise', async () => {
    const seen = await echo('/echo/open/page', SPOOFED);
    expect(seen.url).toBe('/echo/open/page');
    expect(rawNames(seen).filter((n) => n.startsWith('x-trustgate-'))).toEqual([]);
    expect(rawValues(seen, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawValues(seen, 'x-forwarded-host')).toEqual([`127.0.0.1:${stack.port}`]);
    expect(rawValues(seen, 'x-request-id')).toHaveLength(1);
    expect(rawValues(seen, 'x-real-ip')).toEqual([]);
    expect(rawValues(seen, 'forwarded')).toEqual([]);
    expect(JSON.stringify(seen.rawHeaders)).not.toMatch(/admin|evil|6\.6\.6\.|spoof/);
  });

  test("the gateway's cookies are removed from what the upstream sees; the application's are kept", async () => {
    const seen = await echo('/echo/cookies', [['Cookie', `app_pref=1; ${session}; trustgate_session_login=abc; theme=dark`]]);
    expect(seen.headers['x-trustgate-user']).toBe('alice');
    expect(seen.headers.cookie).toBe('app_pref=1; theme=dark');
    expect(JSON.stringify(seen.rawHeaders)).not.toContain('trustgate_session');

    const onlyOurs = await echo('/echo/cookies', [['Cookie', session]]);
    expect(onlyOurs.headers.cookie).toBeUndefined();
    expect(rawValues(onlyOurs, 'cookie')).toEqual([]);
  });

  test('without trusted proxies, the decision log names the socket peer as the client', async () => {
    const seen = await echo('/echo/log', [['Cookie', session], ['X-Forwarded-For', '203.0.113.7']]);
    const requestId = seen.headers['x-request-id'];
    await expect.poll(() => stack.logs.find((l) => l.msg === 'decision' && l.requestId === requestId)).toBeTruthy();
    expect(stack.logs.find((l) => l.msg === 'decision' && l.requestId === requestId)).toMatchObject({ client: '127.0.0.1', user: 'alice@example.com' });
  });
});

describe('header spoofing behind a trusted proxy', () => {
  let stack: Stack;
  let session: string;

  beforeAll(async () => {
    stack = await startStack({ trustedProxies: ['127.0.0.1'] });
    session = await signedInCookie(stack, 'alice');
  });
  afterAll(() => stack.close());

  test("the proxy's X-Forwarded-For is kept with the proxy's address appended, and the log names the real client", async () => {
    const response = await rawRequest(stack.url, '/echo/behind-proxy', {
      headers: [['Cookie', session], ['X-Forwarded-For', '203.0.113.7'], ['X-Trustgate-User', 'admin'], ['Accept', 'application/json']],
    });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body) as EchoResponse;
    expect(rawValues(seen, 'x-forwarded-for')).toEqual(['203.0.113.7, 127.0.0.1']);
    expect(rawValues(seen, 'x-trustgate-user')).toEqual(['alice']);
    const requestId = seen.headers['x-request-id'];
    await expect.poll(() => stack.logs.find((l) => l.msg === 'decision' && l.requestId === requestId)).toBeTruthy();
    expect(stack.logs.find((l) => l.msg === 'decision' && l.requestId === requestId)).toMatchObject({ client: '203.0.113.7' });
  });
});
