// The session cookie through the real gateway: tampered, foreign and garbage cookies, absolute lifetime,
// idle timeout and its sliding window (also for sessions served from the decoded-session cache), and
// secret rotation.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSealer } from '../../src/pipeline/identify-user/create-sealer.ts';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, testClock, TEST_SECRET, type Stack } from '../support/start-stack.ts';

const COOKIE = 'trustgate_session';
const MINUTE = 60_000;
const OTHER_SECRET = 'some-other-gateways-secret-0123456789-abcdef';
const SECRET_A = 'rotation-secret-A-0123456789-abcdefghijklmnop';
const SECRET_B = 'rotation-secret-B-0123456789-abcdefghijklmnop';

/** The decision log line of one request: by request id on gateway answers, else by its (unique) path. */
function decisionOf(stack: Stack, response: Response): Record<string, unknown> | undefined {
  const id = response.headers.get('x-request-id');
  const path = new URL(response.url).pathname;
  const lines = stack.logs.filter((line) => line.msg === 'decision' && (id ? line.requestId === id : line.path === path));
  expect(lines).toHaveLength(1);
  return lines[0];
}

function sessionSetCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((raw) => raw.startsWith(`${COOKIE}=`));
}

/** Asserts a navigation was sent to sign in, the session cookie cleared, and the logged reason. */
function expectSignedOut(stack: Stack, response: Response, reason: string | RegExp): void {
  expect(response.status).toBe(302);
  expect(response.headers.get('location')?.startsWith(`${stack.idp.issuer}/`)).toBe(true);
  const cleared = sessionSetCookie(response);
  expect(cleared).toMatch(new RegExp(`^${COOKIE}=;`));
  expect(cleared).toMatch(/Max-Age=0/i);
  const decision = decisionOf(stack, response);
  expect(decision?.verdict).toBe('authenticate');
  const reasons = decision?.reasons as string[] | undefined;
  expect(reasons).toHaveLength(1);
  if (typeof reason === 'string') expect(reasons?.[0]).toBe(reason);
  else expect(reasons?.[0]).toMatch(reason);
}

/** A session payload in the shape session-cookie.ts expects, sealed like the gateway seals it. */
async function craftSession(secrets: string[], nowMs: number, overrides: Record<string, unknown> = {}): Promise<string> {
  const session = {
    id: 'crafted-session-id-0123456789',
    sub: 'alice',
    email: 'alice@example.com',
    name: 'Alice',
    groups: ['engineering'],
    createdAtMs: nowMs,
    lastSeenAtMs: nowMs,
    expiresAtMs: nowMs + 3600_000,
    ...overrides,
  };
  return createSealer({ secrets, purpose: 'session' }).seal(session, session.expiresAtMs);
}

/** Changes one character in the middle of the JWE ciphertext. */
function alterOneCharacter(value: string): string {
  const parts = value.split('.');
  const ciphertext = parts[3] ?? '';
  const i = Math.floor(ciphertext.length / 2);
  parts[3] = `${ciphertext.slice(0, i)}${ciphertext[i] === 'x' ? 'y' : 'x'}${ciphertext.slice(i + 1)}`;
  return parts.join('.');
}

async function get(client: BrowserClient, url: string): Promise<Response> {
  const response = await client.request(url);
  await response.arrayBuffer();
  return response;
}

describe('session cookie', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({
      now: clock.now,
      session: { lifetime: '1h', idleTimeout: '10m' },
      idp: { accessTokenTtlSeconds: 4 * 3600 },
    });
  });
  afterAll(() => stack.close());

  async function signedIn(): Promise<{ client: BrowserClient; value: string }> {
    const client = new BrowserClient();
    const { response } = await signIn(client, `${stack.url}/`, 'alice');
    expect(response.status).toBe(200);
    const value = client.cookie(COOKIE)?.value;
    expect(value).toBeTruthy();
    return { client, value: value as string };
  }

  test('a cookie altered by one character counts as signed out (session-invalid)', async () => {
    const { client, value } = await signedIn();
    expect((await get(client, `${stack.url}/before`)).status).toBe(200);
    const altered = alterOneCharacter(value);
    expect(altered).not.toBe(value);
    expect(altered).toHaveLength(value.length);
    client.setCookie('127.0.0.1', COOKIE, altered);
    const response = await get(client, `${stack.url}/after`);
    expectSignedOut(stack, response, 'session-invalid');
    expect(client.cookie(COOKIE)).toBeUndefined();
  });

  test('a cookie sealed with another secret counts as signed out (session-invalid)', async () => {
    const client = new BrowserClient();
    client.setCookie('127.0.0.1', COOKIE, await craftSession([OTHER_SECRET], clock.now()));
    const response = await get(client, `${stack.url}/foreign`);
    expectSignedOut(stack, response, 'session-invalid');
  });

  test('the same payload sealed with the gateway secret is accepted (the crafted cookie is well-formed)', async () => {
    const client = new BrowserClient();
    client.setCookie('127.0.0.1', COOKIE, await craftSession([TEST_SECRET], clock.now()));
    const response = await client.request(`${stack.url}/echo/crafted`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers['x-trustgate-user']).toBe('alice');
  });

  test('a garbage cookie is not an error: navigations go to sign-in, API calls get 401', async () => {
    const client = new BrowserClient();
    client.setCookie('127.0.0.1', COOKIE, '%%%');
    const response = await get(client, `${stack.url}/garbage`);
    expectSignedOut(stack, response, 'session-invalid');

    const api = await fetch(`${stack.url}/api/garbage`, {
      headers: { cookie: `${COOKIE}=%%%`, accept: 'application/json' },
      redirect: 'manual',
    });
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: 'TG_ERR_UNAUTHENTICATED', reasons: ['session-invalid'] });
    expect(stack.logs.some((l) => l.level === 50)).toBe(false);
  });

  test('the absolute lifetime ends a session, even one served from the decoded-session cache', async () => {
    const { client, value } = await signedIn();
    const before = await get(client, `${stack.url}/lifetime-before`);
    expect(before.status).toBe(200);
    expect(sessionSetCookie(before)).toBeUndefined();

    // Keep the session active so only the absolute lifetime can end it.
    for (let i = 0; i < 6; i++) {
      clock.advance(9 * MINUTE);
      expect((await get(client, `${stack.url}/lifetime-${i}`)).status).toBe(200);
    }
    const lastValue = client.cookie(COOKIE)?.value;
    expect(lastValue).toBeTruthy();
    expect(lastValue).not.toBe(value);

    clock.advance(7 * MINUTE); // 61 minutes after sign-in, last activity 7 minutes ago
    const after = await get(client, `${stack.url}/lifetime-after`);
    expect(client.cookie(COOKIE)).toBeUndefined();
    expectSignedOut(stack, after, 'session-expired');
  });

  test('the same cached cookie value is refused once the lifetime has passed', async () => {
    const { client, value } = await signedIn();
    expect((await get(client, `${stack.url}/cached-before`)).status).toBe(200);
    clock.advance(61 * MINUTE);
    // The very same value that was decoded (and cached) a moment ago.
    expect(client.cookie(COOKIE)?.value).toBe(value);
    const after = await get(client, `${stack.url}/cached-after`);
    expectSignedOut(stack, after, 'session-expired');
  });

  test('an expired cookie the gateway has never seen is refused too', async () => {
    const nowMs = clock.now();
    const client = new BrowserClient();
    client.setCookie(
      '127.0.0.1',
      COOKIE,
      await craftSession([TEST_SECRET], nowMs - 2 * 3600_000, { lastSeenAtMs: nowMs - 5 * MINUTE, expiresAtMs: nowMs - MINUTE }),
    );
    const response = await get(client, `${stack.url}/expired-unseen`);
    // The sealer's own exp check refuses it before the session is decoded, so it reads as invalid.
    expectSignedOut(stack, response, /^session-(expired|invalid)$/);
  });

  test('the idle timeout ends a session, also for the cached cookie value', async () => {
    const { client, value } = await signedIn();
    expect((await get(client, `${stack.url}/idle-before`)).status).toBe(200);
    clock.advance(11 * MINUTE);
    expect(client.cookie(COOKIE)?.value).toBe(value);
    const after = await get(client, `${stack.url}/idle-after`);
    expectSignedOut(stack, after, 'session-idle');
  });

  test('an idle cookie the gateway has never seen is refused (session-idle)', async () => {
    const nowMs = clock.now();
    const client = new BrowserClient();
    client.setCookie('127.0.0.1', COOKIE, await craftSession([TEST_SECRET], nowMs - 20 * MINUTE, { lastSeenAtMs: nowMs - 11 * MINUTE }));
    const response = await get(client, `${stack.url}/idle-unseen`);
    expectSignedOut(stack, response, 'session-idle');
  });

  test('activity within the idle window slides it: the cookie is re-issued', async () => {
    const { client, value } = await signedIn();
    clock.advance(8 * MINUTE);
    const first = await get(client, `${stack.url}/slide-1`);
    expect(first.status).toBe(200);
    const reissued = sessionSetCookie(first);
    expect(reissued).toBeTruthy();
    expect(reissued).toMatch(/HttpOnly/i);
    const slid = client.cookie(COOKIE)?.value;
    expect(slid).toBeTruthy();
    expect(slid).not.toBe(value);

    clock.advance(8 * MINUTE); // 16 minutes after sign-in, 8 after the last request
    const second = await get(client, `${stack.url}/slide-2`);
    expect(second.status).toBe(200);
    expect(decisionOf(stack, second)?.verdict).toBe('allow');

    // The original value was last seen 16 minutes ago: it is idle even though it is still cached.
    const stale = new BrowserClient();
    stale.setCookie('127.0.0.1', COOKIE, value);
    expectSignedOut(stack, await get(stale, `${stack.url}/slide-stale`), 'session-idle');
  });
});

describe('session secret rotation', () => {
  let rotating: Stack;
  let retired: Stack;
  const clock = testClock();

  beforeAll(async () => {
    rotating = await startStack({ now: clock.now, session: { secrets: [SECRET_B, SECRET_A] } });
    retired = await startStack({ now: clock.now, session: { secrets: [SECRET_B] } });
  });
  afterAll(async () => {
    await Promise.all([rotating?.close(), retired?.close()]);
  });

  test('a cookie sealed with the old secret is accepted while the old secret is still listed', async () => {
    const client = new BrowserClient();
    client.setCookie('127.0.0.1', COOKIE, await craftSession([SECRET_A], clock.now()));
    const response = await client.request(`${rotating.url}/echo/rotated`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { headers: Record<string, string> }).headers['x-trustgate-user']).toBe('alice');
    expect(decisionOf(rotating, response)?.verdict).toBe('allow');
  });

  test('a re-issued cookie is sealed with the new secret', async () => {
    const nowMs = clock.now();
    const client = new BrowserClient();
    // Last seen 6 minutes ago: past the default touch interval (5 min), so the gateway re-seals it.
    client.setCookie('127.0.0.1', COOKIE, await craftSession([SECRET_A], nowMs - 6 * MINUTE));
    const response = await get(client, `${rotating.url}/reissue`);
    expect(response.status).toBe(200);
    const reissued = client.cookie(COOKIE)?.value;
    expect(reissued).toBeTruthy();
    expect(await createSealer({ secrets: [SECRET_B], purpose: 'session' }).open(reissued as string, nowMs)).toMatchObject({ sub: 'alice' });
    expect(await createSealer({ secrets: [SECRET_A], purpose: 'session' }).open(reissued as string, nowMs)).toBeUndefined();
  });

  test('once the old secret is removed, its cookies count as signed out (session-invalid)', async () => {
    const client = new BrowserClient();
    client.setCookie('127.0.0.1', COOKIE, await craftSession([SECRET_A], clock.now()));
    const response = await get(client, `${retired.url}/retired`);
    expectSignedOut(retired, response, 'session-invalid');
  });
});
