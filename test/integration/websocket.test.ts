// WebSocket upgrades through the gateway: signed-in users reach the upstream with identity headers and
// without the gateway's cookie; anonymous, unauthorised and websockets-off upgrades are refused, so are
// upgrades opened by a page of another origin (Cross-Site WebSocket Hijacking) and upgrades to /.trustgate/.
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';
import { PROTECTED_HEADERS } from '../../src/pipeline/act/header-filter.ts';
import { SEPARATORS, concreteName, withSeparator } from '../support/header-spellings.ts';

interface Hello {
  type: string;
  url: string;
  headers: Record<string, string>;
}

type Outcome = { kind: 'open'; socket: WebSocket; hello: Hello } | { kind: 'refused'; status: number; requestId: string | undefined; body: string };

/** Connects and waits for the upstream's hello, or for the HTTP answer that refused the upgrade. */
function connect(url: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('message', (data: Buffer) => resolve({ kind: 'open', socket, hello: JSON.parse(data.toString('utf8')) as Hello }));
    socket.once('unexpected-response', (_req, res: IncomingMessage) => {
      const requestId = res.headers['x-request-id'];
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        resolve({ kind: 'refused', status: res.statusCode ?? 0, requestId: Array.isArray(requestId) ? requestId[0] : requestId, body: Buffer.concat(chunks).toString('utf8') });
        socket.terminate();
      });
    });
    socket.once('error', (error) => reject(error));
  });
}

function nextMessage(socket: WebSocket): Promise<string> {
  return new Promise((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
}

async function sessionCookie(stack: Stack, user: string): Promise<string> {
  const client = new BrowserClient();
  await signIn(client, `${stack.url}/`, user);
  const value = client.cookie('trustgate_session')?.value;
  if (!value) throw new Error(`${user} did not get a session`);
  return `trustgate_session=${value}`;
}

describe('websockets', () => {
  let stack: Stack;
  let wsUrl: string;
  let alice: string;

  beforeAll(async () => {
    stack = await startStack({
      routes: (upstream) => [
        { name: 'app', host: '127.0.0.1', upstream, allowedGroups: ['engineering'], websockets: true, websocketOrigins: ['https://allowed.example', 'http://other.example:8080'] },
        { name: 'no-ws', host: '127.0.0.1', pathPrefix: '/no-ws', upstream, allowedGroups: ['engineering'], websockets: false },
      ],
    });
    wsUrl = stack.url.replace(/^http/, 'ws');
    alice = await sessionCookie(stack, 'alice');
  });
  afterAll(() => stack.close());

  test('a signed-in user reaches the upstream with identity headers and without the session cookie', async () => {
    const outcome = await connect(`${wsUrl}/ws?room=1`, { cookie: `app_pref=1; ${alice}` });
    if (outcome.kind !== 'open') throw new Error(`upgrade refused with ${outcome.status}`);
    const { socket, hello } = outcome;
    try {
      expect(hello.type).toBe('hello');
      expect(hello.url).toBe('/ws?room=1');
      expect(hello.headers['x-trustgate-user']).toBe('alice');
      expect(hello.headers['x-trustgate-email']).toBe('alice@example.com');
      expect(hello.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(hello.headers.cookie).toBe('app_pref=1');
      expect(JSON.stringify(hello.headers)).not.toContain('trustgate_session');

      const reply = nextMessage(socket);
      socket.send('ping');
      expect(await reply).toBe('echo:ping');
    } finally {
      socket.close();
    }
  });

  test('forged identity headers on an upgrade are replaced by the real ones', async () => {
    const outcome = await connect(`${wsUrl}/ws`, { cookie: alice, 'x-trustgate-user': 'admin', x_trustgate_groups: 'admins', 'x-forwarded-for': '6.6.6.6' });
    if (outcome.kind !== 'open') throw new Error(`upgrade refused with ${outcome.status}`);
    outcome.socket.close();
    expect(outcome.hello.headers['x-trustgate-user']).toBe('alice');
    expect(outcome.hello.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(outcome.hello.headers).not.toHaveProperty('x_trustgate_groups');
  });

  test.each(SEPARATORS.map((separator) => [JSON.stringify(separator), separator]))(
    'an upgrade strips every protected header spelled with separator %s, as plain requests do',
    async (_label, separator) => {
      const forged = Object.fromEntries(PROTECTED_HEADERS.map((name, i) => [withSeparator(concreteName(name), separator).toUpperCase(), `forged-${i}`]));
      const outcome = await connect(`${wsUrl}/ws`, { cookie: alice, ...forged, 'x-custom': 'kept' });
      if (outcome.kind !== 'open') throw new Error(`upgrade refused with ${outcome.status}`);
      outcome.socket.close();
      expect(JSON.stringify(outcome.hello.headers)).not.toContain('forged-');
      expect(outcome.hello.headers['x-custom']).toBe('kept');
      expect(outcome.hello.headers['x-trustgate-user']).toBe('alice');
    },
  );

  test('an anonymous upgrade is refused with 401', async () => {
    const outcome = await connect(`${wsUrl}/ws`);
    expect(outcome).toMatchObject({ kind: 'refused', status: 401 });
    if (outcome.kind === 'refused') expect(outcome.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('an upgrade with a forged session cookie is refused with 401', async () => {
    const outcome = await connect(`${wsUrl}/ws`, { cookie: 'trustgate_session=forged' });
    expect(outcome).toMatchObject({ kind: 'refused', status: 401 });
  });

  test('a user outside the allowed groups is refused with 403', async () => {
    const erin = await sessionCookie(stack, 'erin');
    const outcome = await connect(`${wsUrl}/ws`, { cookie: erin });
    expect(outcome).toMatchObject({ kind: 'refused', status: 403 });
  });

  test('a route with websockets off refuses the upgrade with 403, even for an allowed user', async () => {
    const outcome = await connect(`${wsUrl}/no-ws/ws`, { cookie: alice });
    expect(outcome).toMatchObject({ kind: 'refused', status: 403 });
  });

  test('a bad upgrade path is refused with 400', async () => {
    const outcome = await connect(`${wsUrl}/ws%2F..`, { cookie: alice });
    expect(outcome).toMatchObject({ kind: 'refused', status: 400 });
  });

  test("the page of the route's own origin may open a socket", async () => {
    for (const origin of [stack.url, stack.url.toUpperCase()]) {
      const outcome = await connect(`${wsUrl}/ws`, { cookie: alice, origin });
      if (outcome.kind !== 'open') throw new Error(`${origin}: upgrade refused with ${outcome.status} ${outcome.body}`);
      outcome.socket.close();
      expect(outcome.hello.url).toBe('/ws');
    }
  });

  test('a client that sends no Origin (not a browser) may open a socket', async () => {
    const outcome = await connect(`${wsUrl}/ws`, { cookie: alice });
    if (outcome.kind !== 'open') throw new Error(`upgrade refused with ${outcome.status}`);
    outcome.socket.close();
  });

  test("origins in the route's websocketOrigins may open a socket", async () => {
    for (const origin of ['https://allowed.example', 'https://allowed.example:443', 'http://other.example:8080']) {
      const outcome = await connect(`${wsUrl}/ws`, { cookie: alice, origin });
      if (outcome.kind !== 'open') throw new Error(`${origin}: upgrade refused with ${outcome.status} ${outcome.body}`);
      outcome.socket.close();
    }
  });

  const foreign = (port: number): string[] => [
    'https://evil.example',
    'null',
    '',
    `http://127.0.0.1:${port + 1}`,
    'http://127.0.0.1',
    `https://127.0.0.1:${port}`,
    `http://localhost:${port}`,
    `http://127.0.0.1:${port}.evil.example`,
    `http://127.0.0.1:${port}/`,
    `http://127.0.0.1:${port}/path`,
    `http://user@127.0.0.1:${port}`,
    `http://127.0.0.1:${port}, https://evil.example`,
    `ws://127.0.0.1:${port}`,
    `file://`,
    'http://allowed.example',
    'https://allowed.example:8443',
    'https://sub.allowed.example',
    'http://other.example',
  ];

  test('a page of any other origin is refused with 403 and a request id, signed in or not', async () => {
    for (const origin of foreign(stack.port)) {
      for (const cookie of [alice, undefined]) {
        const outcome = await connect(`${wsUrl}/ws`, { origin, ...(cookie ? { cookie } : {}) });
        expect(outcome, origin).toMatchObject({ kind: 'refused', status: 403 });
        if (outcome.kind !== 'refused') continue;
        expect(outcome.requestId, origin).toMatch(/^[0-9a-f-]{36}$/);
        expect(JSON.parse(outcome.body), origin).toMatchObject({ error: 'TG_ERR_FORBIDDEN', reason: 'websocket-origin-mismatch', requestId: outcome.requestId });
      }
    }
  });

  test('the legacy Sec-WebSocket-Origin header is checked too', async () => {
    const outcome = await connect(`${wsUrl}/ws`, { cookie: alice, 'sec-websocket-origin': 'https://evil.example' });
    expect(outcome).toMatchObject({ kind: 'refused', status: 403 });
  });

  test.each(['/.trustgate/healthz', '/.trustgate/login', '/.trustgate/nope', '/.trustgate', '/.trustgate/', '/x/../.trustgate/admin', '/%2etrustgate/healthz', '//.trustgate//callback'])(
    'an upgrade to %s is answered by the gateway, never proxied',
    async (target) => {
      const outcome = await connect(`${wsUrl}${target}`, { cookie: alice, origin: stack.url });
      expect(outcome).toMatchObject({ kind: 'refused', status: 400 });
      if (outcome.kind !== 'refused') return;
      expect(outcome.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(outcome.body)).toMatchObject({ error: 'TG_ERR_BAD_REQUEST', requestId: outcome.requestId });
      expect(stack.decisions().at(-1)).toMatchObject({ status: 400 });
    },
  );
});
