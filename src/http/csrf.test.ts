// Unit tests of the CSRF tokens: bound to the session (subject and start time), to a scope, to the key
// purpose, still valid across a secret rotation; a foreign Origin refuses even a valid token; the
// anonymous (signed double-submit) token is bound to its cookie value.
import { describe, expect, test } from 'vitest';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import { createCsrf } from './csrf.ts';

const SECRET = 'csrf-test-secret-0123456789-abcdefghijkl';
const OLD_SECRET = 'csrf-old-secret-0123456789-abcdefghijklm';
const ORIGIN = 'https://app.example.com';
const COOKIE = 'anonymous-cookie-value-0123456789';

const session: Session = { id: 'session-id-0123456789', sub: 'bob', email: 'bob@example.com', groups: [], createdAtMs: 1_000, lastSeenAtMs: 1_000, expiresAtMs: 10_000 };

describe('session tokens', () => {
  const csrf = createCsrf([SECRET]);
  const token = csrf.token(session);

  test('a token verifies for its own session, with the right Origin or none', () => {
    expect(csrf.verify(session, token, ORIGIN, ORIGIN)).toBe(true);
    expect(csrf.verify(session, token, undefined, ORIGIN)).toBe(true);
    expect(csrf.matches(session, token)).toBe(true);
  });

  test.each(['https://evil.example', 'https://app.example.com:8443', 'http://app.example.com', 'https://app.example.com.evil.example', 'null', ''])(
    'a valid token with Origin %j is refused',
    (origin) => {
      expect(csrf.verify(session, token, origin, ORIGIN)).toBe(false);
    },
  );

  test.each<[string, Partial<Session>]>([
    ['another subject', { sub: 'alice' }],
    ['the same subject signed in at another time', { createdAtMs: 2_000 }],
  ])('a token is refused for %s', (_, change) => {
    expect(csrf.verify({ ...session, ...change }, token, ORIGIN, ORIGIN)).toBe(false);
    expect(csrf.matches({ ...session, ...change }, token)).toBe(false);
  });

  test.each([undefined, '', 'x', `${token}x`, token.slice(0, -1), token.toUpperCase()])('a missing or mangled token (%j) is refused', (given) => {
    expect(csrf.verify(session, given, ORIGIN, ORIGIN)).toBe(false);
  });

  test('a token is bound to its scope: one scope (or the default form scope) never passes for another', () => {
    const scoped = csrf.token(session, 'warning:app');
    expect(csrf.matches(session, scoped, 'warning:app')).toBe(true);
    expect(csrf.matches(session, scoped, 'warning:wiki')).toBe(false);
    expect(csrf.matches(session, scoped)).toBe(false);
    expect(csrf.verify(session, scoped, ORIGIN, ORIGIN)).toBe(false);
    expect(csrf.matches(session, token, 'warning:app')).toBe(false);
    expect(csrf.token(session, 'form')).toBe(token);
  });

  test('tokens of another purpose (the admin host) are never valid here, nor the reverse', () => {
    const admin = createCsrf([SECRET], 'admin csrf');
    expect(admin.verify(session, token, ORIGIN, ORIGIN)).toBe(false);
    expect(csrf.verify(session, admin.token(session), ORIGIN, ORIGIN)).toBe(false);
  });

  test('after a secret rotation, tokens under the old secret still verify; new tokens use the new one', () => {
    const before = createCsrf([OLD_SECRET]);
    const rotated = createCsrf([SECRET, OLD_SECRET]);
    expect(rotated.verify(session, before.token(session), ORIGIN, ORIGIN)).toBe(true);
    expect(rotated.token(session)).toBe(token);
    expect(createCsrf([SECRET]).verify(session, before.token(session), ORIGIN, ORIGIN)).toBe(false);
  });
});

describe('anonymous tokens (signed double-submit)', () => {
  const csrf = createCsrf([SECRET]);
  const token = csrf.anonymousToken(COOKIE);

  test('verifies with its cookie value and the right Origin or none', () => {
    expect(csrf.verifyAnonymous(COOKIE, token, ORIGIN, ORIGIN)).toBe(true);
    expect(csrf.verifyAnonymous(COOKIE, token, undefined, ORIGIN)).toBe(true);
  });

  test.each(['https://evil.example', 'http://app.example.com', 'null'])('a valid pair with Origin %j is refused', (origin) => {
    expect(csrf.verifyAnonymous(COOKIE, token, origin, ORIGIN)).toBe(false);
  });

  test('refused with another cookie value, a short or missing cookie, or no token', () => {
    expect(csrf.verifyAnonymous(`${COOKIE}x`, token, ORIGIN, ORIGIN)).toBe(false);
    expect(csrf.verifyAnonymous(undefined, token, ORIGIN, ORIGIN)).toBe(false);
    const short = 'short-cookie';
    expect(csrf.verifyAnonymous(short, csrf.anonymousToken(short), ORIGIN, ORIGIN)).toBe(false);
    expect(csrf.verifyAnonymous(COOKIE, undefined, ORIGIN, ORIGIN)).toBe(false);
    expect(csrf.verifyAnonymous(COOKIE, csrf.token(session), ORIGIN, ORIGIN)).toBe(false);
  });

  test('an anonymous token is not a session token for any session', () => {
    expect(csrf.matches(session, token)).toBe(false);
  });
});
