// Unit tests of `evaluate` as a decision API would call it: request facts and the runtime's deps, no
// server, no proxy, no response and no request context; the decision and its facts come back as a value,
// Set-Cookie headers included (a session ended on this request is cleared only where cookies may be set).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { parseConfigText } from '../config/load-config.ts';
import { buildRuntime, disposeRuntime } from '../build-runtime.ts';
import { createDecisionJournal } from '../admin/decision-journal.ts';
import { normalizeTarget } from '../http/normalize-path.ts';
import type { Session } from './identify-user/session-cookie.ts';
import { evaluate } from './evaluate-request.ts';
import type { RequestFacts } from './request-facts.ts';

const NOW = Date.UTC(2025, 0, 15, 12);
const HOUR = 3600_000;

const config = parseConfigText(
  stringify({
    listeners: [{ port: 8443 }],
    oidc: { issuer: 'https://idp.example.com', clientId: 'trustgate', clientSecret: 'client-secret', redirectUrl: 'https://app.example.com/.trustgate/callback' },
    session: { secrets: ['unit-test-session-secret-0123456789-abcdef'] },
    routes: [{ name: 'app', host: 'app.example.com', upstream: 'http://10.0.0.5:8080', allowedGroups: ['engineering'] }],
  }),
  'test.yaml',
  {},
);
const runtime = buildRuntime(config, { log: pino({ level: 'silent' }), now: () => NOW, decisions: createDecisionJournal(), admin: undefined });
// The revocation list is read before any session counts (as `listen` does).
beforeAll(() => runtime.revocation.ready());
afterAll(() => disposeRuntime(runtime));

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    id: 'req-1',
    method: 'GET',
    host: 'app.example.com',
    target: normalizeTarget('/reports?q=1'),
    clientAddress: '192.0.2.7',
    fromTrustedProxy: false,
    protocol: 'https',
    headers: {},
    connection: undefined,
    secureCookies: true,
    ...overrides,
  };
}

async function cookieFor(groups: string[]): Promise<string> {
  const session: Session = { id: `session-${groups.join('-')}-0123456789`, sub: 'bob', email: 'bob@example.com', groups, createdAtMs: NOW - HOUR, lastSeenAtMs: NOW, expiresAtMs: NOW + HOUR };
  return `${runtime.sessions.name}=${await runtime.sessions.seal(session)}`;
}

describe('evaluate without a proxy', () => {
  test('no session: authenticate, on the matched route, with no cookie to set', async () => {
    const result = await evaluate(facts(), runtime, { canSetCookie: true });
    expect(result.decision).toEqual({ verdict: 'authenticate', reasons: ['session-missing'] });
    expect(result.route.name).toBe('app');
    expect(result.session).toBeUndefined();
    expect(result.setCookies).toEqual([]);
  });

  test('a member of an allowed group is allowed, and the facts behind it come back', async () => {
    const result = await evaluate(facts({ headers: { cookie: await cookieFor(['engineering']) } }), runtime, { canSetCookie: true });
    expect(result.decision).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'device-check-not-required'] });
    expect(result.session?.email).toBe('bob@example.com');
    expect(result.device).toEqual({ kind: 'not-required' });
    expect(result.posture).toEqual({ kind: 'not-required' });
    expect(result.trust).toEqual({ kind: 'not-required' });
    expect(result.grant).toBeUndefined();
  });

  test('someone outside the allowed groups is denied', async () => {
    const result = await evaluate(facts({ headers: { cookie: await cookieFor(['finance']) } }), runtime, { canSetCookie: true });
    expect(result.decision).toEqual({ verdict: 'deny', reasons: ['user-not-allowed'] });
  });

  test('a forged cookie: authenticate, and the cookie is cleared only where cookies may be set', async () => {
    const forged = facts({ headers: { cookie: `${runtime.sessions.name}=not-a-sealed-session` } });
    const withCookies = await evaluate(forged, runtime, { canSetCookie: true });
    expect(withCookies.decision).toEqual({ verdict: 'authenticate', reasons: ['session-invalid'] });
    expect(withCookies.setCookies).toHaveLength(1);
    expect(withCookies.setCookies[0]).toMatch(new RegExp(`^${runtime.sessions.name}=;`));
    const upgrade = await evaluate(forged, runtime, { canSetCookie: false });
    expect(upgrade.decision.reasons).toEqual(['session-invalid']);
    expect(upgrade.setCookies).toEqual([]);
  });

  test('a host no route serves is refused with TG_ERR_NO_ROUTE', async () => {
    await expect(evaluate(facts({ host: 'other.example.com' }), runtime, { canSetCookie: true })).rejects.toMatchObject({ code: 'TG_ERR_NO_ROUTE' });
  });
});
