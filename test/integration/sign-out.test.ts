// Sessions that end: sign-out is a CSRF-protected POST behind a confirmation page, it puts the session on
// the revocation list (a cookie copied before sign-out is sent to sign in afterwards, also after a
// restart and on a second gateway sharing Redis), revokes the refresh token at the IdP, and ends the
// IdP session even without a live session. Admins can sign a user out everywhere.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn, signOut } from '../support/browser-client.ts';
import { formFields, signedInAdmin } from '../support/admin-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';
import { TEST_REDIS_URL as REDIS_URL } from '../support/test-redis.ts';

const COOKIE = 'trustgate_session';

/** A second browser holding a copy of `client`'s session cookie (as a thief or another device would). */
function copyOf(client: BrowserClient): BrowserClient {
  const copy = new BrowserClient();
  const session = client.cookie(COOKIE);
  if (!session) throw new Error('no session cookie to copy');
  copy.setCookie('127.0.0.1', COOKIE, session.value);
  return copy;
}

async function status(client: BrowserClient, url: string): Promise<{ status: number; location: string | null }> {
  const response = await client.request(url);
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') };
}

/** Asserts the client is sent to the IdP to sign in, and that the gateway logged it as a revoked session. */
async function expectSentToSignIn(stack: Stack, client: BrowserClient, path = '/echo/after'): Promise<void> {
  const answer = await status(client, `${stack.url}${path}`);
  expect(answer.status).toBe(302);
  expect(answer.location?.startsWith(`${stack.idp.issuer}/`)).toBe(true);
}

function revokedDecisions(stack: Stack): number {
  return stack.decisions().filter((d) => (d.reasons as string[] | undefined)?.includes('session-revoked')).length;
}

describe('sign-out', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  test('GET /.trustgate/logout shows a confirmation page and signs nobody out', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'alice');
    const page = await client.request(`${stack.url}/.trustgate/logout`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('Sign out?');
    const fields = formFields(html, 'sign-out-form');
    expect(fields.map(([name]) => name)).toEqual(['csrf']);
    expect(html).toMatch(/<form method="post" action="\/.trustgate\/logout"/);
    expect((await status(client, `${stack.url}/echo/still-in`)).status).toBe(200);
  });

  test.each([
    ['no token', (_csrf: string) => ({ body: '' })],
    ['an empty token', (_csrf: string) => ({ body: 'csrf=' })],
    ['a wrong token', (csrf: string) => ({ body: `csrf=${csrf.slice(0, -2)}xx` })],
    ['a token from another origin', (csrf: string) => ({ body: `csrf=${encodeURIComponent(csrf)}`, origin: 'https://evil.example' })],
  ])('POST with %s is refused and the session lives on', async (_name, make) => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'alice');
    const page = await (await client.request(`${stack.url}/.trustgate/logout`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const { body, origin } = make(csrf) as { body: string; origin?: string };
    const refused = await client.request(`${stack.url}/.trustgate/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
      body,
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('location')).toBeNull();
    expect(await refused.text()).toContain('sign-out form has expired');
    expect((await status(client, `${stack.url}/echo/still-in`)).status).toBe(200);
  });

  test('a cookie copied before sign-out gets the sign-in redirect afterwards', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'alice');
    const copy = copyOf(client);
    expect((await status(copy, `${stack.url}/echo/copy-works`)).status).toBe(200);
    const out = await signOut(client, stack.url);
    expect(out.status).toBe(302);
    const endSession = new URL(out.headers.get('location') ?? '');
    expect(endSession.origin).toBe(stack.idp.issuer);
    expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.url}/.trustgate/signed-out`);
    expect(client.cookie(COOKIE)).toBeUndefined();
    const audited = (await stack.auditEvents()).filter((e) => e.event === 'session.signed-out' && e.user === 'alice@example.com');
    expect(audited.at(-1)).toEqual(expect.objectContaining({ by: 'alice@example.com', sub: 'alice', sessionId: expect.any(String), sourceAddress: '127.0.0.1', requestId: expect.any(String) }));
    const before = revokedDecisions(stack);
    // The copy was served from the decoded-session cache a moment ago: the cache must not hide the revocation.
    await expectSentToSignIn(stack, copy);
    expect(revokedDecisions(stack)).toBe(before + 1);
    await expectSentToSignIn(stack, client);
  });

  test('sign-out revokes the refresh token at the IdP (RFC 7009): refreshing with it afterwards fails', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'bob');
    const session = await stack.gateway.runtime().sessions.read(client.cookie(COOKIE)?.value ?? '');
    const refreshToken = session?.refreshToken;
    expect(refreshToken).toBeTruthy();
    expect((await signOut(client, stack.url)).status).toBe(302);
    const refreshed = await fetch(`${stack.idp.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('trustgate-test:test-client-secret').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken as string }).toString(),
    });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' });
  });

  test('the default scopes no longer ask for offline_access', async () => {
    const response = await new BrowserClient().request(`${stack.url}/scopes`);
    const scope = new URL(response.headers.get('location') ?? '').searchParams.get('scope') ?? '';
    expect(scope.split(' ')).toEqual(['openid', 'email', 'profile', 'groups']);
  });

  test('sign-out without a live session still ends the IdP session (client_id, no id_token_hint)', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'carol');
    const copy = copyOf(client);
    await signOut(client, stack.url);
    // The copy's session is revoked: it is no longer live, yet its holder can still end the IdP session.
    const out = await signOut(copy, stack.url);
    expect(out.status).toBe(302);
    const endSession = new URL(out.headers.get('location') ?? '');
    expect(endSession.origin).toBe(stack.idp.issuer);
    expect(endSession.searchParams.get('client_id')).toBe('trustgate-test');
    expect(endSession.searchParams.get('id_token_hint')).toBeNull();
    const anonymous = await signOut(new BrowserClient(), stack.url);
    expect(anonymous.status).toBe(302);
    expect(new URL(anonymous.headers.get('location') ?? '').searchParams.get('client_id')).toBe('trustgate-test');
  });

  test('without a session, POST needs the token bound to the confirmation page cookie', async () => {
    const client = new BrowserClient();
    const page = await (await client.request(`${stack.url}/.trustgate/logout`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const post = (from: BrowserClient, body: string) =>
      from.request(`${stack.url}/.trustgate/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    // Another browser (a forging site) has the token but not the cookie.
    expect((await post(new BrowserClient(), `csrf=${encodeURIComponent(csrf)}`)).status).toBe(403);
    expect((await post(client, '')).status).toBe(403);
    expect((await post(client, `csrf=${encodeURIComponent(csrf)}`)).status).toBe(302);
  });
});

describe('admin: sign this user out', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  async function adminPost(admin: BrowserClient, user: string): Promise<Response> {
    const page = await admin.request(`${stack.adminUrl}/.trustgate/admin/sessions`);
    expect(page.status).toBe(200);
    const fields = formFields(await page.text(), 'sign-user-out-form').map(([name, value]): [string, string] => [name, name === 'user' ? user : value]);
    return admin.request(`${stack.adminUrl}/.trustgate/admin/sessions/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.adminUrl },
      body: new URLSearchParams(fields).toString(),
    });
  }

  test.each([
    ['e-mail', 'bob@example.com'],
    ['subject', 'bob'],
  ])('revokes every session of the user, named by %s, and only theirs', async (_kind, user) => {
    const admin = await signedInAdmin(stack, 'alice');
    const laptop = new BrowserClient();
    const phone = new BrowserClient();
    await signIn(laptop, `${stack.url}/`, 'bob');
    await signIn(phone, `${stack.url}/`, 'bob');
    const carol = new BrowserClient();
    await signIn(carol, `${stack.url}/`, 'carol');
    const done = await adminPost(admin, user);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toContain('/.trustgate/admin/sessions?signed-out=');
    await expectSentToSignIn(stack, laptop);
    await expectSentToSignIn(stack, phone);
    // A durable audit record: who (the admin), whom, when, the request id and the source address.
    const audited = (await stack.auditEvents()).filter((e) => e.event === 'session.signed-out-by-admin' && e.user === user);
    expect(audited).toEqual([expect.objectContaining({ by: 'alice@example.com', sourceAddress: '127.0.0.1', requestId: expect.any(String), time: expect.any(String) })]);
    // The sessions page lists it, with who did it.
    const listed = await (await admin.request(`${stack.adminUrl}/.trustgate/admin/sessions`)).text();
    const table = /<table data-testid="recent-revocations">[\s\S]*?<\/table>/.exec(listed)?.[0] ?? '';
    expect(table).toMatch(new RegExp(`<td>${user.replace('.', '\\.')}</td><td>[^<]+</td><td>alice@example\\.com</td>`));
    expect((await status(carol, `${stack.url}/echo/carol`)).status).toBe(200);
    expect((await status(admin, `${stack.url}/echo/alice`)).status).toBe(200);
    // Signing in again afterwards works: the cut-off is "sessions started before the action".
    const again = new BrowserClient();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await signIn(again, `${stack.url}/`, 'bob');
    expect((await status(again, `${stack.url}/echo/bob-again`)).status).toBe(200);
  });

  test('non-admins and forms without a CSRF token are refused', async () => {
    // The console is on the admin host: bob signed in there too, so he is refused (403) rather than sent to sign in.
    const bob = await signedInAdmin(stack, 'bob');
    expect((await bob.request(`${stack.adminUrl}/.trustgate/admin/sessions`)).status).toBe(403);
    const forged = await bob.request(`${stack.adminUrl}/.trustgate/admin/sessions/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: 'alice', return: `${stack.adminUrl}/.trustgate/admin/sessions` }).toString(),
    });
    expect(forged.status).toBe(403);
    const admin = await signedInAdmin(stack, 'alice');
    const noToken = await admin.request(`${stack.adminUrl}/.trustgate/admin/sessions/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: 'bob', return: `${stack.adminUrl}/.trustgate/admin/sessions` }).toString(),
    });
    expect(noToken.status).toBe(403);
    expect((await status(bob, `${stack.url}/echo/bob`)).status).toBe(200);
  });

  test('an empty user is a field error, not a revocation', async () => {
    const admin = await signedInAdmin(stack, 'alice');
    const answer = await adminPost(admin, '   ');
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('aria-invalid="true"');
  });
});

describe('admin: sign this user out when the audit trail cannot be written', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trustgate-audit-broken-'));
    // The audit "file" is a directory: every append fails.
    stack = await startStack({ breakGlass: { audit: { file: dir } } });
  });
  afterAll(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the sessions end anyway and the admin gets an error page saying the audit failed', async () => {
    const admin = await signedInAdmin(stack, 'alice');
    const bob = new BrowserClient();
    await signIn(bob, `${stack.url}/`, 'bob');
    const page = await admin.request(`${stack.adminUrl}/.trustgate/admin/sessions`);
    const fields = formFields(await page.text(), 'sign-user-out-form').map(([name, value]): [string, string] => [name, name === 'user' ? 'bob@example.com' : value]);
    const answer = await admin.request(`${stack.adminUrl}/.trustgate/admin/sessions/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.adminUrl },
      body: new URLSearchParams(fields).toString(),
    });
    expect(answer.status).toBe(503);
    const html = await answer.text();
    expect(html).toContain('audit trail could not record it');
    expect(html).toMatch(/[0-9a-f-]{36}|request/i);
    await expectSentToSignIn(stack, bob);
  });
});

describe('revocations survive a restart (file store)', () => {
  test('a revoked session stays revoked when the gateway starts again on the same file; others live on', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trustgate-revocations-restart-'));
    try {
      const first = await startStack({ revocation: { dir } });
      const leaving = new BrowserClient();
      const staying = new BrowserClient();
      await signIn(leaving, `${first.url}/`, 'alice');
      await signIn(staying, `${first.url}/`, 'bob');
      const copy = copyOf(leaving);
      await signOut(leaving, first.url);
      await first.close();

      const second = await startStack({ revocation: { dir } });
      try {
        const kept = copyOf(staying);
        expect((await status(kept, `${second.url}/echo/kept`)).status).toBe(200);
        await expectSentToSignIn(second, copy);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable revocation file is a start-up error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trustgate-revocations-bad-'));
    try {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path.join(dir, 'session-revocations.jsonl'), '{"type":"revoked","record":{"kind":"session"}}\n');
      await expect(startStack({ revocation: { dir } })).rejects.toMatchObject({ code: 'TG_ERR_REVOCATION_UNAVAILABLE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('two gateways sharing Redis', () => {
  let a: Stack;
  let b: Stack;
  beforeAll(async () => {
    const store = { kind: 'redis', url: REDIS_URL, prefix: `trustgate-test:${randomUUID()}:` };
    a = await startStack({ revocation: { store } });
    b = await startStack({ revocation: { store } });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  test('signing out on one gateway ends the copied cookie on the other', async () => {
    const client = new BrowserClient();
    await signIn(client, `${a.url}/`, 'alice');
    const copy = copyOf(client);
    expect((await status(copy, `${b.url}/echo/on-b`)).status).toBe(200);
    expect((await signOut(client, a.url)).status).toBe(302);
    // Pub/sub carries the revocation to b; poll rather than assume a delay.
    await expect.poll(async () => (await status(copy, `${b.url}/echo/on-b-later`)).status, { timeout: 5_000 }).toBe(302);
    await expectSentToSignIn(b, copy);
  });

  test('a gateway started after the revocation loads it', async () => {
    const client = new BrowserClient();
    await signIn(client, `${a.url}/`, 'dave');
    const copy = copyOf(client);
    await signOut(client, a.url);
    const late = await startStack({ revocation: { store: a.config.session.revocation as unknown as Record<string, unknown> } });
    try {
      await expectSentToSignIn(late, copy);
    } finally {
      await late.close();
    }
  });
});
