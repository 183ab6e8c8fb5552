// Unit tests for the admin host's cookie scope: its own host-only cookie (no Domain even with
// session.cookieDomain, "__Host-" where cookies are Secure), sealed and CSRF-keyed apart from the route
// hosts' so neither scope's cookie or token is accepted by the other; no routes served there.
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { parseConfigText } from './config/load-config.ts';
import { buildRuntime, disposeRuntime } from './build-runtime.ts';
import { createDecisionJournal } from './admin/decision-journal.ts';
import type { Session } from './pipeline/identify-user/session-cookie.ts';

const NOW = Date.UTC(2025, 0, 15, 12);
const SESSION: Session = { id: 'session-1', sub: 'alice', email: 'alice@example.com', groups: ['trustgate-admins'], createdAtMs: NOW, lastSeenAtMs: NOW, expiresAtMs: NOW + 3600_000 };

function runtimeWith(admin: Record<string, unknown>) {
  const config = parseConfigText(
    stringify({
      listeners: [{ port: 8443 }],
      oidc: { issuer: 'https://idp.example.com', clientId: 'trustgate', clientSecret: 'client-secret', redirectUrl: 'https://app.example.com/.trustgate/callback' },
      session: { secrets: ['unit-test-session-secret-0123456789-abcdef'], cookieDomain: 'example.com' },
      routes: [{ name: 'app', host: 'app.example.com', upstream: 'http://10.0.0.5:8080', allowedGroups: ['engineering'] }],
      admin,
    }),
    'test.yaml',
    {},
  );
  return buildRuntime(config, { log: pino({ level: 'silent' }), now: () => NOW, decisions: createDecisionJournal(), admin: undefined });
}

describe('the admin host runtime', () => {
  test('its own host-only cookie: "__Host-" prefixed and Secure on secure listeners, never a Domain', async () => {
    const runtime = runtimeWith({ host: 'trustgate-admin.example.com' });
    const views = runtime.adminHost;
    if (!views) throw new Error('no admin host views');
    const secure = views.secure.sessions.setCookieHeader(await views.secure.sessions.seal(SESSION), { secure: true });
    expect(secure).toMatch(/^__Host-trustgate_session_admin=/);
    expect(secure).toMatch(/; Secure/);
    expect(secure).toMatch(/; Path=\//);
    expect(secure).not.toMatch(/Domain=/i);
    const plain = views.plain.sessions.setCookieHeader(await views.plain.sessions.seal(SESSION), { secure: false });
    expect(plain).toMatch(/^trustgate_session_admin=/);
    expect(plain).not.toMatch(/Domain=/i);
    // The route hosts' cookie keeps its configured Domain.
    expect(runtime.sessions.setCookieHeader(await runtime.sessions.seal(SESSION), { secure: true })).toMatch(/Domain=example\.com/i);
    // Sign-in there returns to the admin host's own callback, whatever oidc.redirectUrl says for routes.
    expect(views.secure.config.oidc.redirectUrl).toBeUndefined();
    expect(views.secure.config.session.cookieDomain).toBeUndefined();
    await disposeRuntime(runtime);
  });

  test("a route host's sealed session or CSRF token is not the admin host's, nor the reverse", async () => {
    const runtime = runtimeWith({ host: 'trustgate-admin.example.com' });
    const admin = runtime.adminHost?.secure;
    if (!admin) throw new Error('no admin host view');
    expect(await admin.sessions.read(await runtime.sessions.seal(SESSION))).toBeUndefined();
    expect(await runtime.sessions.read(await admin.sessions.seal(SESSION))).toBeUndefined();
    expect(await admin.sessions.read(await admin.sessions.seal(SESSION))).toMatchObject({ sub: 'alice' });
    expect(admin.csrf.matches(SESSION, runtime.csrf.token(SESSION))).toBe(false);
    expect(runtime.csrf.matches(SESSION, admin.csrf.token(SESSION))).toBe(false);
    expect(admin.csrf.matches(SESSION, admin.csrf.token(SESSION))).toBe(true);
    expect(await admin.loginSealer.open(await runtime.loginSealer.seal({ state: 'x' }, NOW + 60_000), NOW)).toBeUndefined();
    await disposeRuntime(runtime);
  });

  test('no route is served there, and sign-in may return only to the admin host', async () => {
    const runtime = runtimeWith({ host: 'trustgate-admin.example.com' });
    const admin = runtime.adminHost?.plain;
    expect(admin?.routes.choose('app.example.com', '/')).toEqual({ kind: 'none' });
    expect(admin?.routes.choose('trustgate-admin.example.com', '/')).toEqual({ kind: 'none' });
    expect(admin?.routes.servesHost('trustgate-admin.example.com:8443')).toBe(true);
    expect(admin?.routes.servesHost('app.example.com')).toBe(false);
    expect(runtime.routes.servesHost('trustgate-admin.example.com')).toBe(false);
    await disposeRuntime(runtime);
  });

  test('without admin.host there is no admin host view', async () => {
    const runtime = runtimeWith({});
    expect(runtime.adminHost).toBeUndefined();
    await disposeRuntime(runtime);
  });
});
