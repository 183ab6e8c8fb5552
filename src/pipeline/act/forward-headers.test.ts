// Unit tests of the headers an upstream receives: forged identity and client facts are gone, the
// gateway's own are set from the session, device and grant alone (encoded so claims cannot inject
// headers), Connection-listed names and an Upgrade on a plain request are dropped, and the gateway's
// cookies never leave. The filter's spellings are covered in header-filter.test.ts.
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from 'vitest';
import type { Session } from '../identify-user/session-cookie.ts';
import { createHeaderFilter } from './header-filter.ts';
import { rewriteHeaders, type ForwardFacts } from './forward-headers.ts';

const session: Session = { id: 'session-id-0123456789', sub: 'bob', email: 'bob@example.com', groups: ['engineering', 'on-call'], createdAtMs: 1, lastSeenAtMs: 1, expiresAtMs: 2 };

function facts(overrides: Partial<ForwardFacts> = {}): ForwardFacts {
  return {
    requestId: 'req-1',
    peerAddress: '203.0.113.7',
    protocol: 'https',
    host: 'app.example.com',
    trustedForwardedFor: undefined,
    session,
    device: undefined,
    grant: undefined,
    ownCookies: ['trustgate_session'],
    filter: createHeaderFilter({ stripHeaders: ['X-Company-Role'], certificateHeader: 'x-client-cert' }),
    ...overrides,
  };
}

function rewritten(headers: IncomingHttpHeaders, overrides: Partial<ForwardFacts> = {}): IncomingHttpHeaders {
  const copy = { ...headers };
  rewriteHeaders(copy, facts(overrides));
  return copy;
}

describe('rewriteHeaders', () => {
  test('forged identity and client facts are replaced by the gateway\'s own', () => {
    const headers = rewritten({
      'x-trustgate-user': 'alice',
      'x-trustgate-email': 'alice@example.com',
      'x-trustgate-groups': 'admins',
      'x-trustgate-device': 'forged',
      'x-trustgate-break-glass': 'forged',
      x_trustgate_user: 'alice',
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-host': 'evil.example',
      'x-real-ip': '10.0.0.1',
      forwarded: 'for=10.0.0.1',
      'x-request-id': 'forged',
      'remote-user': 'alice',
      'x-company-role': 'admin',
      'x-client-cert': 'forged',
      accept: 'text/html',
    });
    expect(headers).toEqual({
      accept: 'text/html',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-request-id': 'req-1',
      'x-trustgate-user': 'bob',
      'x-trustgate-email': 'bob@example.com',
      'x-trustgate-groups': 'engineering,on-call',
    });
  });

  test('without a session no identity header is sent, forged or not', () => {
    const headers = rewritten({ 'x-trustgate-user': 'alice', 'x-trustgate-email': 'alice@example.com' }, { session: undefined });
    expect(Object.keys(headers).filter((name) => name.startsWith('x-trustgate'))).toEqual([]);
  });

  test('X-Forwarded-For keeps a trusted proxy\'s chain and appends the peer', () => {
    expect(rewritten({ 'x-forwarded-for': '10.9.9.9' }, { trustedForwardedFor: '198.51.100.1, 10.0.0.2' })['x-forwarded-for']).toBe('198.51.100.1, 10.0.0.2, 203.0.113.7');
  });

  test('claims that could inject or split headers are percent-encoded; commas in groups too', () => {
    const odd: Session = { ...session, sub: 'bob\r\nX-Trustgate-Admin: yes', email: 'bøb@example.com', groups: ['a,b', 'c%d', 'ok'] };
    const headers = rewritten({}, { session: odd });
    expect(headers['x-trustgate-user']).toBe('bob%0D%0AX-Trustgate-Admin: yes');
    expect(headers['x-trustgate-email']).toBe('b%C3%B8b@example.com');
    expect(headers['x-trustgate-groups']).toBe('a%2Cb,c%25d,ok');
    for (const value of Object.values(headers)) expect(String(value)).toMatch(/^[\x20-\x7e]*$/);
  });

  test('device and break-glass facts are set when present', () => {
    const headers = rewritten({}, { device: { id: 'A1B2\n', posture: 'compliant' }, grant: { id: 'grant-1', expiresAtMs: Date.UTC(2026, 10, 22, 12) } });
    expect(headers['x-trustgate-device']).toBe('A1B2%0A');
    expect(headers['x-trustgate-posture']).toBe('compliant');
    expect(headers['x-trustgate-break-glass']).toBe('grant-1');
    expect(headers['x-trustgate-break-glass-until']).toBe('2026-11-22T12:00:00.000Z');
    expect(rewritten({}, { device: { id: '', posture: 'not-required' } })['x-trustgate-device']).toBeUndefined();
  });

  test('names listed in Connection are dropped; only keep-alive, close and upgrade stay listed', () => {
    const headers = rewritten({ connection: 'keep-alive, X-Trustgate-User, x-app-secret, Authorization', 'x-app-secret': 's', authorization: 'Bearer t' });
    expect(headers.connection).toBe('keep-alive');
    expect(headers['x-app-secret']).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-trustgate-user']).toBe('bob');
    expect(rewritten({ connection: 'x-a', 'x-a': '1' }).connection).toBeUndefined();
  });

  test('Upgrade and HTTP2-Settings pass only on an upgrade request (no h2c smuggling)', () => {
    const plain = rewritten({ upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAAP__' });
    expect([plain.upgrade, plain['http2-settings']]).toEqual([undefined, undefined]);
    const plainWithConnection = rewritten({ connection: 'HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'x' });
    expect([plainWithConnection.upgrade, plainWithConnection['http2-settings'], plainWithConnection.connection]).toEqual([undefined, undefined, undefined]);
    const upgrade = rewritten({ connection: 'Upgrade', upgrade: 'websocket' });
    expect([upgrade.connection, upgrade.upgrade]).toEqual(['upgrade', 'websocket']);
  });

  test.each([
    ['trustgate_session=s; theme=dark', 'theme=dark'],
    ['theme=dark;trustgate_session=s;lang=en', 'theme=dark; lang=en'],
    ['trustgate_session_login_abc=x; trustgate_session=s', undefined],
    ['trustgate_sessionx=keep; a=1', 'trustgate_sessionx=keep; a=1'],
    ['; ;theme=dark; ', 'theme=dark'],
    ['trustgate_session', undefined],
  ])('Cookie %j → %j', (cookie, expected) => {
    expect(rewritten({ cookie }).cookie).toBe(expected);
  });
});
