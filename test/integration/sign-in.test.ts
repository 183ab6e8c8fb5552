// The whole sign-in against the real development IdP: redirect, PKCE code flow, session cookie, identity
// headers upstream, refresh, logout, and the clear answers when sign-in goes wrong.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn, signOut } from '../support/browser-client.ts';
import { startStack, testClock, type Stack } from '../support/start-stack.ts';

interface Echo {
  url: string;
  headers: Record<string, string>;
}

describe('sign-in', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({ now: clock.now, idp: { accessTokenTtlSeconds: 600 } });
  });
  afterAll(() => stack.close());

  test('an anonymous page request is sent to the IdP with PKCE S256, state and nonce', async () => {
    const client = new BrowserClient();
    const response = await client.request(`${stack.url}/some/page?x=1`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin).toBe(stack.idp.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('state')).toBeTruthy();
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(location.searchParams.get('redirect_uri')).toBe(`${stack.url}/.trustgate/callback`);
    const login = client.cookies.find((c) => c.name.startsWith('trustgate_session_login_'));
    expect(login?.path).toBe('/.trustgate/callback');
    expect(login?.raw).toMatch(/HttpOnly/i);
  });

  test('signing in lands on the page asked for, and the upstream learns who it is', async () => {
    const client = new BrowserClient();
    const { response, hops } = await signIn(client, `${stack.url}/some/page?x=1`, 'alice');
    expect(hops.at(-1)?.url).toBe(`${stack.url}/some/page?x=1`);
    expect(response.status).toBe(200);
    const session = client.cookie('trustgate_session');
    expect(session?.raw).toMatch(/HttpOnly/i);
    expect(session?.raw).toMatch(/SameSite=Lax/i);
    // Plain http on loopback is the one place the cookie may go without Secure.
    expect(session?.raw).not.toMatch(/Secure/i);
    const echo = (await (await client.request(`${stack.url}/echo/me`, { headers: { accept: 'application/json' } })).json()) as Echo;
    expect(echo.headers['x-trustgate-user']).toBe('alice');
    expect(echo.headers['x-trustgate-email']).toBe('alice@example.com');
    expect(echo.headers['x-trustgate-groups']).toBe('engineering,trustgate-admins');
    expect(echo.headers.cookie ?? '').not.toContain('trustgate_session');
    expect(stack.logs.some((l) => l.msg === 'decision' && l.user === 'alice@example.com' && l.verdict === 'allow')).toBe(true);
  });

  test('a user outside the allowed groups gets the 403 page, or JSON when asking for JSON', async () => {
    const client = new BrowserClient();
    const { response } = await signIn(client, `${stack.url}/`, 'erin');
    expect(response.status).toBe(403);
    const html = await response.text();
    expect(html).toContain('erin@contractor.example');
    // Who is allowed in (engineering) is not shown to the person who was refused (deny-page.test.ts).
    expect(html).not.toContain('engineering');
    expect(html).toMatch(/Request id: <code data-testid="request-id">[0-9a-f-]{36}<\/code>/);
    const json = await client.request(`${stack.url}/`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ error: 'TG_ERR_FORBIDDEN', reasons: ['user-not-allowed'] });
  });

  test('API clients without a session get 401 JSON instead of a redirect', async () => {
    const response = await fetch(`${stack.url}/api/things`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'TG_ERR_UNAUTHENTICATED', reasons: ['session-missing'] });
    const post = await fetch(`${stack.url}/form`, { method: 'POST', body: 'a=1', redirect: 'manual' });
    expect(post.status).toBe(401);
  });

  test('cancelling at the IdP shows a sign-in error page, not a stack trace', async () => {
    const client = new BrowserClient();
    const first = await client.follow(`${stack.url}/`);
    const html = await first.response.text();
    const abort = /<form method="post" action="([^"]+\/abort)">/.exec(html)?.[1] ?? '';
    const posted = await client.request(new URL(abort, first.hops.at(-1)?.url).href, { method: 'POST' });
    const { response } = await client.follow(new URL(posted.headers.get('location') ?? '', stack.idp.issuer).href);
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Sign-in was cancelled');
    expect(page).not.toMatch(/at .*\.ts:\d+/);
  });

  test('a callback without the sign-in cookie, or with a foreign state, is refused', async () => {
    const bare = await fetch(`${stack.url}/.trustgate/callback?code=abc&state=xyz`, { redirect: 'manual' });
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain('expired, was already used or was started in another browser');

    const client = new BrowserClient();
    await client.request(`${stack.url}/`);
    const forged = await client.request(`${stack.url}/.trustgate/callback?code=abc&state=not-the-state`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('expired, was already used or was started in another browser');
    expect(client.cookie('trustgate_session')).toBeUndefined();
  });

  test('tokens are refreshed before they expire; a failed refresh ends the session', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'alice');
    const before = client.cookie('trustgate_session')?.value;
    clock.advance(595_000); // within refreshBefore (60 s) of the 600 s token lifetime
    const refreshed = await client.request(`${stack.url}/echo/after-refresh`, { headers: { accept: 'application/json' } });
    expect(refreshed.status).toBe(200);
    const after = client.cookie('trustgate_session')?.value;
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);

    stack.idp.revokeAll();
    clock.advance(600_000);
    const ended = await client.request(`${stack.url}/echo/after-revoke`);
    expect(ended.status).toBe(302);
    expect(ended.headers.get('location')).toContain(stack.idp.issuer);
    expect(client.cookie('trustgate_session')).toBeUndefined();
    expect(stack.logs.some((l) => l.msg === 'decision' && (l.reasons as string[] | undefined)?.includes('session-refresh-failed'))).toBe(true);
  });

  test('logout clears the session and ends the IdP session (RP-initiated, with id_token_hint)', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, 'alice');
    const out = await signOut(client, stack.url);
    expect(out.status).toBe(302);
    const endSession = new URL(out.headers.get('location') ?? '');
    expect(endSession.origin).toBe(stack.idp.issuer);
    expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.url}/.trustgate/signed-out`);
    expect(client.cookie('trustgate_session')).toBeUndefined();
    const again = await client.request(`${stack.url}/`);
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toContain(stack.idp.issuer);
  });
});

describe('identity provider outage', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ idpDown: true });
  });
  afterAll(() => stack.close());

  test('readiness and sign-in report the IdP as unavailable, then recover', async () => {
    const ready = await fetch(`${stack.url}/.trustgate/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { config: true, idp: false } });
    const page = await fetch(`${stack.url}/`, { redirect: 'manual', headers: { 'sec-fetch-dest': 'document' } });
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('Sign-in is unavailable');
    expect((await fetch(`${stack.url}/.trustgate/healthz`)).status).toBe(200);

    stack.registerClient();
    await expect.poll(async () => (await fetch(`${stack.url}/.trustgate/readyz`)).status, { timeout: 10_000 }).toBe(200);
    const client = new BrowserClient();
    const { response } = await signIn(client, `${stack.url}/`, 'alice');
    expect(response.status).toBe(200);
  });
});
