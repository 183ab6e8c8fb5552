// CSRF protection for the gateway's own forms: a token bound to the signed-in session (HMAC over the
// session's subject and start time, key derived from the session secrets), plus an Origin check when
// the browser sends one. https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';

export interface Csrf {
  /** A token bound to the session; `scope` binds it to one purpose too (e.g. a route's warning). */
  token(session: Session, scope?: string): string;
  /** True when `token` belongs to this session and the Origin header (if any) is `expectedOrigin`. */
  verify(session: Session, token: string | undefined, origin: string | undefined, expectedOrigin: string): boolean;
  /** The same check without an Origin (for tokens carried in cookies). */
  matches(session: Session, token: string | undefined, scope?: string): boolean;
  /**
   * For a form shown without a session (sign-out): a token bound to a random value the browser holds in a
   * cookie (signed double-submit), so another site can neither read nor forge the pair.
   */
  anonymousToken(cookieValue: string): string;
  verifyAnonymous(cookieValue: string | undefined, token: string | undefined, origin: string | undefined, expectedOrigin: string): boolean;
}

/** `purpose` separates key sets: the admin host's tokens are never valid on a route host, nor the reverse. */
export function createCsrf(secrets: readonly string[], purpose = 'csrf'): Csrf {
  const keys = secrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, 'trustgate', `trustgate ${purpose}`, 32)));
  const sign = (key: Buffer, session: Session, scope: string): string =>
    createHmac('sha256', key).update(`${scope}\n${session.sub}\n${session.createdAtMs}`).digest('base64url');
  function matches(session: Session, token: string | undefined, scope = 'form'): boolean {
    if (!token) return false;
    const given = Buffer.from(token);
    return keys.some((key) => {
      const wanted = Buffer.from(sign(key, session, scope));
      return wanted.length === given.length && timingSafeEqual(wanted, given);
    });
  }
  const signAnonymous = (key: Buffer, value: string): string => createHmac('sha256', key).update(`anonymous\n${value}`).digest('base64url');
  return {
    anonymousToken: (cookieValue) => signAnonymous(keys[0] as Buffer, cookieValue),
    verifyAnonymous(cookieValue, token, origin, expectedOrigin) {
      if (origin !== undefined && origin !== expectedOrigin) return false;
      if (!cookieValue || cookieValue.length < 16 || !token) return false;
      const given = Buffer.from(token);
      return keys.some((key) => {
        const wanted = Buffer.from(signAnonymous(key, cookieValue));
        return wanted.length === given.length && timingSafeEqual(wanted, given);
      });
    },
    token: (session, scope = 'form') => sign(keys[0] as Buffer, session, scope),
    verify(session, token, origin, expectedOrigin) {
      if (origin !== undefined && origin !== expectedOrigin) return false;
      return matches(session, token);
    },
    matches,
  };
}
