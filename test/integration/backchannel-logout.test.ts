// OpenID Connect Back-Channel Logout 1.0 against the real development IdP: ending the IdP session kills
// the gateway session (by sid), a valid logout token naming only sub ends all of that user's sessions,
// and every malformed variant is refused with 400 JSON (no-store) without revoking anything.
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const COOKIE = 'trustgate_session';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('back-channel logout', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  const endpoint = () => `${stack.url}/.trustgate/backchannel-logout`;
  const post = (body: string, contentType = 'application/x-www-form-urlencoded') =>
    fetch(endpoint(), { method: 'POST', headers: { 'content-type': contentType }, body });
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: stack.idp.issuer,
    aud: 'trustgate-test',
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 120,
    jti: randomUUID(),
    events: { [EVENT]: {} },
    ...extra,
  });

  async function signedInAs(user: string): Promise<{ client: BrowserClient; sid: string | undefined }> {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/`, user);
    const session = await stack.gateway.runtime().sessions.read(client.cookie(COOKIE)?.value ?? '');
    return { client, sid: session?.idpSid };
  }
  async function page(client: BrowserClient): Promise<number> {
    const response = await client.request(`${stack.url}/echo/x`);
    await response.arrayBuffer();
    return response.status;
  }

  test('ending the IdP session at the IdP kills the gateway session (sid recorded at sign-in)', async () => {
    const { client, sid } = await signedInAs('alice');
    expect(sid).toBeTruthy();
    const other = await signedInAs('bob');
    expect(await page(client)).toBe(200);
    // The user signs out at the IdP itself (another app's sign-out link), not through the gateway.
    const confirm = await client.request(`${stack.idp.issuer}/session/end?client_id=trustgate-test`);
    const html = await confirm.text();
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)">/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf).toBeTruthy();
    const ended = await client.request(new URL(action as string, stack.idp.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrf as string, logout: 'yes' }).toString(),
    });
    expect(ended.status).toBeLessThan(400);
    expect(stack.logs.some((l) => l.msg === 'back-channel logout: sessions revoked' && l.sid === sid)).toBe(true);
    expect(await page(client)).toBe(302);
    expect(await page(other.client)).toBe(200);
  });

  test('a valid token with sid answers 200 (no-store) and ends that IdP session only', async () => {
    const target = await signedInAs('carol');
    const bystander = await signedInAs('carol');
    const response = await post(new URLSearchParams({ logout_token: await stack.idp.signJwt(claims({ sid: target.sid, sub: 'carol' })) }).toString());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await page(target.client)).toBe(302);
    expect(await page(bystander.client)).toBe(200);
    // Audited: the IdP did it, to this sid and subject, from this address, under this request id.
    const audited = (await stack.auditEvents()).filter((e) => e.event === 'session.backchannel-logout' && e.sid === target.sid);
    expect(audited).toEqual([expect.objectContaining({ by: 'idp', sub: 'carol', user: 'carol', sourceAddress: '127.0.0.1', requestId: expect.any(String), time: expect.any(String) })]);
  });

  test('a valid token with only sub ends every session of that user', async () => {
    const one = await signedInAs('dave');
    const two = await signedInAs('dave');
    const response = await post(new URLSearchParams({ logout_token: await stack.idp.signJwt(claims({ sub: 'dave' })) }).toString());
    expect(response.status).toBe(200);
    expect(await page(one.client)).toBe(302);
    expect(await page(two.client)).toBe(302);
  });

  test('a replayed jti is refused', async () => {
    const first = await signedInAs('bob');
    const token = await stack.idp.signJwt(claims({ sid: first.sid }));
    expect((await post(new URLSearchParams({ logout_token: token }).toString())).status).toBe(200);
    const again = await post(new URLSearchParams({ logout_token: token }).toString());
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_request', reason: 'replayed' });
  });

  const foreignKey = async (): Promise<Awaited<ReturnType<typeof importJWK>>> => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return importJWK(privateKey.export({ format: 'jwk' }) as JWK, 'RS256');
  };
  const nowS = () => Math.floor(Date.now() / 1000);
  type Variant = [string, (sid: string) => Promise<string>, string];
  const variants: Variant[] = [
    ['bad signature (tampered)', async (sid) => {
      const token = await stack.idp.signJwt(claims({ sid }));
      const [h, p, s] = token.split('.');
      return `${h}.${p}.${(s ?? '').slice(0, -4)}${(s ?? '').endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    }, 'bad-signature'],
    ['signed by another key', async (sid) => new SignJWT(claims({ sid })).setProtectedHeader({ alg: 'RS256', kid: 'not-the-idp' }).sign(await foreignKey()), 'bad-signature'],
    ['alg none', async (sid) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims({ sid }))).toString('base64url')}.`, 'malformed'],
    ['HS256 with the client secret', async (sid) => new SignJWT(claims({ sid })).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('test-client-secret')), 'malformed'],
    ['wrong iss', (sid) => stack.idp.signJwt(claims({ sid, iss: 'https://evil.example' })), 'wrong-issuer'],
    ['wrong aud', (sid) => stack.idp.signJwt(claims({ sid, aud: 'some-other-client' })), 'wrong-audience'],
    ['iat missing', (sid) => stack.idp.signJwt({ ...claims({ sid }), iat: undefined }), 'iat-missing'],
    ['iat an hour old', (sid) => stack.idp.signJwt(claims({ sid, iat: nowS() - 3600, exp: nowS() + 60 })), 'iat-not-recent'],
    ['iat in the future', (sid) => stack.idp.signJwt(claims({ sid, iat: nowS() + 3600, exp: nowS() + 7200 })), 'iat-not-recent'],
    ['expired', (sid) => stack.idp.signJwt(claims({ sid, iat: nowS() - 200, exp: nowS() - 100 })), 'expired'],
    ['jti missing', (sid) => stack.idp.signJwt({ ...claims({ sid }), jti: undefined }), 'jti-missing'],
    ['events missing', (sid) => stack.idp.signJwt({ ...claims({ sid }), events: undefined }), 'events-missing'],
    ['events without the logout event', (sid) => stack.idp.signJwt(claims({ sid, events: { 'http://schemas.openid.net/event/other': {} } })), 'events-missing'],
    ['logout event not an object', (sid) => stack.idp.signJwt(claims({ sid, events: { [EVENT]: 'yes' } })), 'events-missing'],
    ['nonce present', (sid) => stack.idp.signJwt(claims({ sid, nonce: 'n-0S6_WzA2Mj' })), 'nonce-present'],
    ['neither sid nor sub', () => stack.idp.signJwt(claims()), 'sid-and-sub-missing'],
    ['empty sid and sub', () => stack.idp.signJwt(claims({ sid: '', sub: '' })), 'sid-and-sub-missing'],
    ['an ID token instead', (sid) => stack.idp.signJwt({ ...claims({ sid, sub: 'alice', nonce: 'abc' }), events: undefined }), 'events-missing'],
    ['not a JWT', async () => 'garbage', 'malformed'],
  ];

  test.each(variants)('refused: %s', async (_name, make, reason) => {
    const victim = await signedInAs('alice');
    const response = await post(new URLSearchParams({ logout_token: await make(victim.sid as string) }).toString());
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'invalid_request', reason });
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/);
    expect(await page(victim.client)).toBe(200);
  });

  test.each([
    ['no logout_token', () => post('')],
    ['a JSON body', () => post(JSON.stringify({ logout_token: 'x' }), 'application/json')],
    ['an oversized body', () => post(`logout_token=${'a'.repeat(64 * 1024)}`)],
  ])('refused with JSON: %s', async (_name, send) => {
    const response = await send();
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ error: 'invalid_request', reason: 'malformed' });
  });

  test('GET is not allowed', async () => {
    const response = await fetch(endpoint(), { headers: { accept: 'application/json' } });
    expect(response.status).toBe(405);
  });
});
