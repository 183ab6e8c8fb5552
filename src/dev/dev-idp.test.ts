// Walks the development IdP's sign-in the way a browser would (manual redirects, a cookie jar) and
// completes it with openid-client, so the gateway's integration tests can rely on the same flow.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_USERS, startDevIdp } from './dev-idp.ts';
import type { DevIdp } from './dev-idp.ts';

const CLIENT_ID = 'trustgate-test';
const CLIENT_SECRET = 'test-secret-that-is-long-enough';

/** Enough of a browser: remembers cookies by name (path-blind; harmless against one host). */
function createBrowser() {
  const jar = new Map<string, string>();
  async function request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [key = '', val = ''] = a.trim().split('=');
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }
  /** Follows redirects until one points at `stopAt`; returns that Location (or the final response). */
  async function follow(start: string, stopAt: string, init?: RequestInit): Promise<{ location?: string; res: Response }> {
    let res = await request(start, init);
    let current = start;
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res };
      const next = new URL(location, current).href;
      if (next.startsWith(stopAt)) return { location: next, res };
      current = next;
      res = await request(next);
    }
    throw new Error('too many redirects');
  }
  return { jar, request, follow };
}

let idp: DevIdp;
let rp: Server;
let redirectUri: string;
let postLogoutRedirectUri: string;
let config: client.Configuration;

beforeAll(async () => {
  idp = await startDevIdp({ accessTokenTtlSeconds: 5 });
  // Nothing is ever served here: the walk stops at the redirect. It only reserves a real port,
  // which is what the gateway's tests will have too.
  rp = createServer((_req, res) => res.end('rp'));
  await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
  const rpBase = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
  redirectUri = `${rpBase}/_trustgate/callback`;
  postLogoutRedirectUri = `${rpBase}/_trustgate/signed-out`;
  idp.registerClient({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [redirectUri],
    postLogoutRedirectUris: [postLogoutRedirectUri],
  });
  config = await client.discovery(new URL(idp.issuer), CLIENT_ID, CLIENT_SECRET, undefined, {
    execute: [client.allowInsecureRequests],
  });
});

afterAll(async () => {
  await idp?.close();
  await new Promise<void>((resolve) => (rp ? rp.close(() => resolve()) : resolve()));
});

async function startSignIn() {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile groups offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, codeVerifier, state, nonce };
}

async function openLoginPage(browser: ReturnType<typeof createBrowser>, authorizeUrl: URL) {
  const { res } = await browser.follow(authorizeUrl.href, redirectUri);
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('Trustgate development sign-in');
  const action = /<form method="post" action="([^"]+)\/login">/.exec(html)?.[1];
  expect(action).toMatch(/^\/interaction\/[\w-]+$/);
  return { html, interactionPath: action as string };
}

async function signIn(browser: ReturnType<typeof createBrowser>, user: string) {
  const flow = await startSignIn();
  const { interactionPath } = await openLoginPage(browser, flow.url);
  const { location } = await browser.follow(`${idp.issuer}${interactionPath}/login`, redirectUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user }).toString(),
  });
  expect(location).toBeDefined();
  const tokens = await client.authorizationCodeGrant(config, new URL(location as string), {
    pkceCodeVerifier: flow.codeVerifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    idTokenExpected: true,
  });
  return tokens;
}

describe('dev IdP', () => {
  test('answers 503 until a client is registered', async () => {
    const bare = await startDevIdp({});
    try {
      const res = await fetch(`${bare.issuer}/.well-known/openid-configuration`);
      expect(res.status).toBe(503);
      expect(bare.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await bare.close();
    }
  });

  test('discovery advertises the issuer, PKCE S256 and the groups scope', () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(idp.issuer);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'groups']));
    expect(metadata.end_session_endpoint).toBe(`${idp.issuer}/session/end`);
    expect(metadata.revocation_endpoint).toBeDefined();
  });

  test('the sign-in page lists every demo user as an escaped button', async () => {
    const browser = createBrowser();
    const { html } = await openLoginPage(browser, (await startSignIn()).url);
    for (const user of DEMO_USERS) {
      expect(html).toContain(`<button class="user" type="submit" name="user" value="${user.id}">`);
      expect(html).toContain(user.email);
    }
    expect(html).toContain('laptop failing disk encryption');
  });

  test('alice signs in: id_token carries email and groups, refresh works and rotates', async () => {
    const browser = createBrowser();
    const tokens = await signIn(browser, 'alice');
    const claims = tokens.claims();
    expect(claims?.sub).toBe('alice');
    expect(claims?.['email']).toBe('alice@example.com');
    expect(claims?.['email_verified']).toBe(true);
    expect(claims?.['name']).toBe('Alice Anders');
    expect(claims?.['groups']).toEqual(expect.arrayContaining(['engineering', 'trustgate-admins']));
    expect(tokens.expires_in).toBeLessThanOrEqual(5);
    expect(tokens.refresh_token).toBeTypeOf('string');

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).toBeTypeOf('string');
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTypeOf('string');
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.['groups']).toEqual(expect.arrayContaining(['engineering']));

    // Rotation: the old refresh token is spent.
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toThrow();
  });

  test('a second authorize in the same browser skips the sign-in page (IdP session)', async () => {
    const browser = createBrowser();
    await signIn(browser, 'bob');
    const flow = await startSignIn();
    const { location } = await browser.follow(flow.url.href, redirectUri);
    expect(new URL(location as string).searchParams.get('code')).toBeTruthy();
  });

  test('unknown user gets a 400 page', async () => {
    const browser = createBrowser();
    const { interactionPath } = await openLoginPage(browser, (await startSignIn()).url);
    const res = await browser.request(`${idp.issuer}${interactionPath}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=%3Cscript%3Emallory',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('&lt;script&gt;mallory');
    expect(html).not.toContain('<script>mallory');
  });

  test('cancel ends at the redirect URI with error=access_denied', async () => {
    const browser = createBrowser();
    const flow = await startSignIn();
    const { interactionPath } = await openLoginPage(browser, flow.url);
    const { location } = await browser.follow(`${idp.issuer}${interactionPath}/abort`, redirectUri, { method: 'POST' });
    const params = new URL(location as string).searchParams;
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe(flow.state);
    expect(params.get('code')).toBeNull();
  });

  test('RP-initiated logout ends the IdP session and returns to post_logout_redirect_uri', async () => {
    const browser = createBrowser();
    const tokens = await signIn(browser, 'carol');
    const endUrl = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: postLogoutRedirectUri,
      state: 'bye',
    });
    const page = await browser.request(endUrl.href);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)">/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(html).toContain('name="logout" value="yes"');
    const { location } = await browser.follow(action as string, postLogoutRedirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrf as string, logout: 'yes' }).toString(),
    });
    expect(new URL(location as string).searchParams.get('state')).toBe('bye');

    // Session gone: the next authorize shows the sign-in page again, and the grant's tokens are dead.
    await openLoginPage(browser, (await startSignIn()).url);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toThrow();
  });

  test('revokeAll makes refresh fail', async () => {
    const tokens = await signIn(createBrowser(), 'dave');
    idp.revokeAll();
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toThrow();
  });

  test('registering another client keeps existing refresh tokens valid', async () => {
    const tokens = await signIn(createBrowser(), 'alice');
    idp.registerClient({
      clientId: 'another',
      clientSecret: 'another-secret-that-is-long',
      redirectUris: ['http://127.0.0.1:1/cb'],
      postLogoutRedirectUris: [],
    });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.claims()?.sub).toBe('alice');
  });
});
