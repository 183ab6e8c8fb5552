// The session cookie: seal/open the signed-in user's session, with decoded sessions kept in an LRU
// keyed by the cookie value, so the hot path does no JWE crypto for a session it has already seen.
// The cache only saves decryption: whether a session was revoked is checked on every request
// (identify-user), so a cached session is never trusted past its revocation.
import { LRUCache } from 'lru-cache';
import { stringifySetCookie } from 'cookie';
import { z } from 'zod';
import type { SessionConfig } from '../../config/schema.ts';
import { createSealer } from './create-sealer.ts';

const sessionSchema = z.object({
  /** Random, per sign-in: what sign-out puts on the revocation list (cookies without one do not open). */
  id: z.string().min(16),
  sub: z.string(),
  email: z.string(),
  name: z.string().optional(),
  groups: z.array(z.string()),
  createdAtMs: z.number(),
  lastSeenAtMs: z.number(),
  expiresAtMs: z.number(),
  tokenExpiresAtMs: z.number().optional(),
  refreshToken: z.string().optional(),
  /** Kept for the userinfo endpoint, which confirms groups when there is no refresh token. */
  accessToken: z.string().optional(),
  idToken: z.string().optional(),
  /** When the IdP last confirmed `groups` (sign-in, refresh, userinfo); admin pages need it recent. */
  groupsConfirmedAtMs: z.number().optional(),
  /** The IdP's session id (the ID token's `sid`), matched by back-channel logout. */
  idpSid: z.string().optional(),
});

export type Session = Readonly<z.output<typeof sessionSchema>>;

export interface SessionCookie {
  readonly name: string;
  read(value: string): Promise<Session | undefined>;
  seal(session: Session): Promise<string>;
  setCookieHeader(value: string, options: { secure: boolean }): string;
  clearCookieHeader(options: { secure: boolean }): string;
  /** Token refreshes under way, by cookie value (see identify-user). */
  readonly refreshing: Map<string, Promise<Session | undefined>>;
}

// Browsers drop cookies over 4096 bytes; leave room for the name and attributes.
const MAX_COOKIE_VALUE_BYTES = 3800;

/** `purpose` separates sealing keys: a cookie sealed for one scope (route hosts, the admin host) opens in no other. */
export function createSessionCookie(deps: { config: SessionConfig; now: () => number; purpose?: string }): SessionCookie {
  const { config, now } = deps;
  const sealer = createSealer({ secrets: config.secrets, purpose: deps.purpose ?? 'session' });
  const decoded = new LRUCache<string, Session>({ max: 50_000, ttl: 5 * 60_000, ttlAutopurge: false });
  const attributes = { httpOnly: true, sameSite: 'lax' as const, path: '/', domain: config.cookieDomain };

  async function sealFitting(session: Session): Promise<string> {
    let value = await sealer.seal({ ...session }, session.expiresAtMs);
    if (value.length > MAX_COOKIE_VALUE_BYTES && session.idToken) {
      // The id_token is only a logout hint; dropping it keeps the session under the browser limit.
      value = await sealer.seal({ ...session, idToken: undefined }, session.expiresAtMs);
    }
    if (value.length > MAX_COOKIE_VALUE_BYTES && session.accessToken) {
      // Large (JWT) access tokens go next: without one, groups are confirmed by refresh only.
      value = await sealer.seal({ ...session, idToken: undefined, accessToken: undefined }, session.expiresAtMs);
    }
    return value;
  }

  return {
    name: config.cookieName,
    refreshing: new Map(),
    async read(value) {
      const cached = decoded.get(value);
      if (cached) return cached;
      const payload = await sealer.open(value, now());
      const parsed = sessionSchema.safeParse(payload);
      if (!parsed.success) return undefined;
      const session = Object.freeze(parsed.data);
      decoded.set(value, session);
      return session;
    },
    async seal(session) {
      const value = await sealFitting(session);
      decoded.set(value, session);
      return value;
    },
    setCookieHeader(value, { secure }) {
      const maxAge = Math.max(0, Math.floor((decodedExpiry(decoded.get(value)) - now()) / 1000));
      return stringifySetCookie(config.cookieName, value, { ...attributes, secure, maxAge });
    },
    clearCookieHeader({ secure }) {
      return stringifySetCookie(config.cookieName, '', { ...attributes, secure, maxAge: 0, expires: new Date(0) });
    },
  };

  function decodedExpiry(session: Session | undefined): number {
    return session?.expiresAtMs ?? now() + config.lifetime;
  }
}
