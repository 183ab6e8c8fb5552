// Admin rights are re-checked with the real development IdP (on the admin host): after admin.groupsMaxAge a removed admin loses
// the console (and the session's groups are updated), a kept admin keeps it, and groups that cannot be
// confirmed (refresh refused, no refresh token and no live access token) close the console — never stale.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, testClock, type Stack } from '../support/start-stack.ts';

const MAX_AGE_MS = 5 * 60_000;
const ADMIN_PAGES = ['/.trustgate/admin/grants', '/.trustgate/admin/'];

async function status(client: BrowserClient, url: string, accept = 'text/html'): Promise<Response> {
  return client.request(url, { headers: { accept } });
}

/** The groups in the client's admin-host session (the console has its own session, see admin-host.test.ts). */
async function groupsUpstreamSees(stack: Stack, client: BrowserClient): Promise<string | undefined> {
  const scope = stack.gateway.runtime().adminHost?.plain;
  const session = await scope?.sessions.read(client.cookie('trustgate_session_admin')?.value ?? '');
  return session?.groups.join(',');
}

describe('admin groups are re-confirmed (refresh-token grant)', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({ now: clock.now, idp: { accessTokenTtlSeconds: 3600 } });
  });
  afterAll(() => stack.close());

  test('the default admin.groupsMaxAge is 5 minutes', () => {
    expect(stack.config.admin.groupsMaxAge).toBe(MAX_AGE_MS);
  });

  test('a removed admin keeps the console until groupsMaxAge, then gets 403 and updated groups', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    for (const page of ADMIN_PAGES) expect((await status(client, `${stack.adminUrl}${page}`)).status, page).toBe(200);

    stack.idp.setUserGroups('alice', ['engineering']);
    clock.advance(MAX_AGE_MS - 30_000);
    expect((await status(client, `${stack.adminUrl}/.trustgate/admin/grants`)).status).toBe(200);

    clock.advance(60_000);
    for (const page of ADMIN_PAGES) {
      const response = await status(client, `${stack.adminUrl}${page}`);
      expect(response.status, page).toBe(403);
      expect(await response.text(), page).toContain('members of the Trustgate admin group');
    }
    expect(await groupsUpstreamSees(stack, client)).toBe('engineering');
    stack.idp.setUserGroups('alice', ['engineering', 'trustgate-admins']);
  });

  test('a kept admin keeps the console past groupsMaxAge, confirmed again by the IdP', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    const before = client.cookie('trustgate_session_admin')?.value;
    clock.advance(MAX_AGE_MS + 60_000);
    for (const page of ADMIN_PAGES) expect((await status(client, `${stack.adminUrl}${page}`)).status, page).toBe(200);
    expect(client.cookie('trustgate_session_admin')?.value).not.toBe(before);
    expect(await groupsUpstreamSees(stack, client)).toBe('engineering,trustgate-admins');
  });

  test('when the IdP refuses the refresh, the console says to sign in again (fail closed), for pages and JSON', async () => {
    const client = new BrowserClient();
    await signIn(client, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    stack.idp.revokeAll();
    clock.advance(MAX_AGE_MS + 60_000);
    const page = await status(client, `${stack.adminUrl}/.trustgate/admin/grants`);
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('could not be confirmed');
    expect(html).toContain('href="/.trustgate/login?rd=%2F.trustgate%2Fadmin%2Fgrants"');
    expect(html).toMatch(/Request id: <code data-testid="request-id">[0-9a-f-]{36}<\/code>/);
    expect(html).not.toContain('Active grants');
    const json = await status(client, `${stack.adminUrl}/.trustgate/admin/`, 'application/json');
    expect(json.status).toBe(401);
    expect(await json.json()).toMatchObject({ error: 'TG_ERR_REAUTH_REQUIRED', reason: 'admin-groups-unconfirmed' });
  });
});

describe('admin groups are re-confirmed (userinfo, no refresh token)', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({ now: clock.now, admin: { groupsMaxAge: '1m' }, idp: { refreshTokens: false, accessTokenTtlSeconds: 3600 } });
  });
  afterAll(() => stack.close());

  test('a removed admin loses the console after admin.groupsMaxAge; a kept one keeps it', async () => {
    const removed = new BrowserClient();
    const kept = new BrowserClient();
    await signIn(removed, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    await signIn(kept, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    expect((await status(removed, `${stack.adminUrl}/.trustgate/admin/grants`)).status).toBe(200);
    clock.advance(2 * 60_000);
    expect((await status(kept, `${stack.adminUrl}/.trustgate/admin/grants`)).status).toBe(200);
    stack.idp.setUserGroups('alice', ['engineering']);
    clock.advance(2 * 60_000);
    expect((await status(removed, `${stack.adminUrl}/.trustgate/admin/grants`)).status).toBe(403);
    expect(await groupsUpstreamSees(stack, removed)).toBe('engineering');
  });

  test('without a usable access token the groups cannot be confirmed, so the console is closed', async () => {
    const client = new BrowserClient();
    stack.idp.setUserGroups('alice', ['engineering', 'trustgate-admins']);
    await signIn(client, `${stack.adminUrl}/.trustgate/admin/`, 'alice');
    stack.idp.revokeAll();
    clock.advance(2 * 60_000);
    const page = await status(client, `${stack.adminUrl}/.trustgate/admin/grants`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('Sign in again');
  });
});
