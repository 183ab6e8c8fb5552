// Verifies an OpenID Connect Back-Channel Logout token (https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation):
// signature with the IdP's keys, iss, aud, iat (present and recent), exp if present, jti, the logout
// event, sid or sub, and no nonce. Returns what to revoke, or throws LogoutTokenError with a reason.
import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How old a logout token may be (by iat); a replayed jti is remembered this long plus the skew. */
export const LOGOUT_TOKEN_MAX_AGE_MS = 5 * 60_000;
const CLOCK_SKEW_S = 60;
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export type LogoutTokenReason =
  | 'malformed' | 'bad-signature' | 'wrong-issuer' | 'wrong-audience' | 'iat-missing' | 'iat-not-recent' | 'expired'
  | 'jti-missing' | 'events-missing' | 'sid-and-sub-missing' | 'nonce-present' | 'replayed';

export class LogoutTokenError extends Error {
  readonly reason: LogoutTokenReason;
  constructor(reason: LogoutTokenReason, message: string) {
    super(message);
    this.reason = reason;
    this.name = 'LogoutTokenError';
  }
}

export interface VerifiedLogoutToken {
  sid: string | undefined;
  sub: string | undefined;
  /** Issuer-scoped, fixed-length replay key for the jti. */
  replayKey: string;
  /** Until when the replay key must be remembered (after that the iat check refuses the token anyway). */
  rememberUntilMs: number;
}

export async function verifyLogoutToken(
  token: string,
  expected: { keys: JWTVerifyGetKey; issuer: string; clientId: string; nowMs: number },
): Promise<VerifiedLogoutToken> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, expected.keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms: ASYMMETRIC,
      currentDate: new Date(expected.nowMs),
      clockTolerance: CLOCK_SKEW_S,
      maxTokenAge: Math.floor(LOGOUT_TOKEN_MAX_AGE_MS / 1000),
    }));
  } catch (error) {
    throw refusal(error);
  }
  const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  if (typeof payload.iat !== 'number') throw new LogoutTokenError('iat-missing', 'The logout token has no iat.');
  if (payload.iat * 1000 > expected.nowMs + CLOCK_SKEW_S * 1000) throw new LogoutTokenError('iat-not-recent', 'The logout token was issued in the future.');
  const jti = str(payload.jti);
  if (!jti) throw new LogoutTokenError('jti-missing', 'The logout token has no jti.');
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events && typeof events === 'object' && !Array.isArray(events) ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!event || typeof event !== 'object' || Array.isArray(event)) {
    throw new LogoutTokenError('events-missing', `The logout token's events claim does not contain ${BACKCHANNEL_LOGOUT_EVENT}.`);
  }
  if ('nonce' in payload) throw new LogoutTokenError('nonce-present', 'A logout token must not contain a nonce.');
  const sid = str(payload.sid);
  const sub = str(payload.sub);
  if (!sid && !sub) throw new LogoutTokenError('sid-and-sub-missing', 'The logout token names neither a session (sid) nor a user (sub).');
  return {
    sid,
    sub,
    replayKey: `jti:${createHash('sha256').update(`${expected.issuer}\n${jti}`).digest('base64url')}`,
    rememberUntilMs: payload.iat * 1000 + LOGOUT_TOKEN_MAX_AGE_MS + CLOCK_SKEW_S * 1000,
  };
}

/** jose's failures as reasons; a key set that cannot be fetched is not the token's fault and is rethrown. */
function refusal(error: unknown): Error {
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') || !(error instanceof errors.JOSEError)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  if (error instanceof errors.JWTExpired) {
    return error.claim === 'iat' ? new LogoutTokenError('iat-not-recent', 'The logout token is too old.') : new LogoutTokenError('expired', 'The logout token has expired.');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'iss') return new LogoutTokenError('wrong-issuer', 'The logout token was not issued by the configured identity provider.');
    if (claim === 'aud') return new LogoutTokenError('wrong-audience', 'The logout token is not addressed to this client.');
    if (claim === 'iat') return new LogoutTokenError(error.reason === 'missing' ? 'iat-missing' : 'iat-not-recent', 'The logout token is missing iat or is not recent.');
    return new LogoutTokenError('malformed', `The logout token's ${claim} claim is not valid.`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new LogoutTokenError('bad-signature', 'The logout token is not signed by the identity provider.');
  }
  return new LogoutTokenError('malformed', 'The logout token is not a valid signed JWT.');
}
