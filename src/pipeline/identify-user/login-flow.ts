// The sign-in round trip: start (PKCE verifier, state and nonce sealed into a short-lived cookie of its own
// per attempt, named for the attempt's state and scoped to the callback path, so two tabs signing in at once
// both finish), callback (checks, code exchange, new session; the attempt's cookie is used up) and logout
// (RP-initiated where the IdP supports it). https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
import { createHash, randomBytes } from 'node:crypto';
import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import { parseCookie, stringifySetCookie } from 'cookie';
import { GatewayError } from '../../errors.ts';
import type { RequestContext } from '../request-context.ts';
import { requireOwnOrigin, servedOrigins } from '../served-origins.ts';
import { issueCookie } from './identify-user.ts';
import { safeReturnUrl } from './return-url.ts';
import type { Session } from './session-cookie.ts';

export const CALLBACK_PATH = '/.trustgate/callback';
const LOGIN_TTL_MS = 10 * 60_000;
/**
 * Sign-ins a browser may have in flight. The attempts' cookies ride together on every callback, so the
 * callback keeps only the newest this many (each is about 500 bytes; far below the request-header limit).
 */
export const MAX_PARALLEL_LOGINS = 8;

interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  returnTo: string;
  startedAtMs: number;
}

/** The login cookies' common name; each attempt's cookie is this plus "_" and a hash of its state. */
export function loginCookieName(ctx: RequestContext): string {
  // Without the admin session's "__Host-" prefix: browsers refuse that prefix on a cookie scoped to a path.
  return `${ctx.runtime.sessions.name.replace(/^__Host-/, '')}_login`;
}

function attemptCookieName(ctx: RequestContext, state: string): string {
  return `${loginCookieName(ctx)}_${createHash('sha256').update(state).digest('base64url').slice(0, 22)}`;
}

/** Redirects the browser to the IdP; `returnTo` must already be validated. */
export async function startLogin(ctx: RequestContext, returnTo: string): Promise<string> {
  const { oidc, loginSealer, now, config } = ctx.runtime;
  const checks: LoginState = {
    state: randomState(),
    nonce: randomNonce(),
    codeVerifier: randomPKCECodeVerifier(),
    redirectUri: config.oidc.redirectUrl ?? `${requireOwnOrigin(ctx)}${CALLBACK_PATH}`,
    returnTo,
    startedAtMs: now(),
  };
  const url = await oidc.authorizationUrl(checks);
  const sealed = await loginSealer.seal({ ...checks }, checks.startedAtMs + LOGIN_TTL_MS);
  ctx.setCookies.push(loginCookie(ctx, attemptCookieName(ctx, checks.state), sealed, Math.floor(LOGIN_TTL_MS / 1000)));
  return url.href;
}


/** Handles /.trustgate/callback: returns where to send the user, with the session cookie set. */
export async function finishLogin(ctx: RequestContext, query: string): Promise<string> {
  const { oidc, now, config } = ctx.runtime;
  const params = new URLSearchParams(query);
  const payload = await takeAttempt(ctx, params.get('state') ?? '');
  const error = params.get('error');
  if (error) {
    const message = error === 'access_denied' ? 'Sign-in was cancelled or refused by the identity provider.' : `The identity provider reported an error (${error}).`;
    throw new GatewayError('TG_ERR_SIGNIN_FAILED', message, { details: { error } });
  }
  if (!payload) {
    throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'This sign-in link has expired, was already used or was started in another browser. Please start again.');
  }
  const identity = await oidc.exchangeCode(query, payload);
  const nowMs = now();
  const session: Session = {
    id: randomBytes(18).toString('base64url'),
    idpSid: identity.sid,
    sub: identity.sub,
    email: identity.email,
    name: identity.name,
    groups: identity.groups,
    createdAtMs: nowMs,
    lastSeenAtMs: nowMs,
    expiresAtMs: nowMs + config.session.lifetime,
    tokenExpiresAtMs: identity.tokenExpiresAtMs,
    refreshToken: identity.refreshToken,
    accessToken: identity.accessToken,
    idToken: identity.idToken,
    groupsConfirmedAtMs: nowMs,
  };
  await issueCookie(ctx, session);
  ctx.session = session;
  const origins = servedOrigins(ctx);
  return safeReturnUrl(payload.returnTo, origins) ?? `${origins.own ?? ''}/`;
}

/**
 * The sign-in attempt this callback belongs to (by its state), or undefined. Its cookie is used up either
 * way, so a replayed callback finds nothing; attempts beyond the newest MAX_PARALLEL_LOGINS, and ones that no
 * longer open, are cleared too.
 */
async function takeAttempt(ctx: RequestContext, state: string): Promise<LoginState | undefined> {
  const { loginSealer, now } = ctx.runtime;
  const prefix = `${loginCookieName(ctx)}_`;
  const wanted = attemptCookieName(ctx, state);
  const cookies = Object.entries(parseCookie(ctx.req.headers.cookie ?? '')).filter(([name]) => name.startsWith(prefix));
  const open = async ([name, value]: [string, string | undefined]) => {
    const payload = value ? await loginSealer.open(value, now()) : undefined;
    return { name, state: isLoginState(payload) ? payload : undefined };
  };
  const attempts = await Promise.all(cookies.map(open));
  const others = attempts.filter((a) => a.name !== wanted && a.state).sort((a, b) => (b.state?.startedAtMs ?? 0) - (a.state?.startedAtMs ?? 0));
  const kept = new Set(others.slice(0, MAX_PARALLEL_LOGINS - 1).map((a) => a.name));
  for (const attempt of attempts) {
    if (!kept.has(attempt.name)) ctx.setCookies.push(loginCookie(ctx, attempt.name, '', 0));
  }
  const mine = attempts.find((a) => a.name === wanted)?.state;
  return mine && state !== '' && mine.state === state ? mine : undefined;
}

/**
 * Ends `session` (the live session whose sign-out form was posted, if any) everywhere: it goes on the
 * revocation list (so a copied cookie is refused on every replica), its refresh token is revoked at the
 * IdP (RFC 7009, best effort) and the cookie is cleared. Returns the IdP's end-session URL, which ends
 * the IdP session even without a live session (client_id, no id_token_hint), or our signed-out page.
 */
export async function logout(ctx: RequestContext, session: Session | undefined): Promise<string> {
  const { sessions, oidc, config, revocation, log } = ctx.runtime;
  ctx.setCookies.push(sessions.clearCookieHeader({ secure: ctx.listener.secureCookies }));
  const signedOut = config.oidc.postLogoutRedirectUrl ?? `${servedOrigins(ctx).own ?? ''}/.trustgate/signed-out`;
  if (session) {
    await revocation.revokeSession(session, { by: session.email, user: session.email });
    // The revocation stands either way; an audit file that cannot be written is an operator's alarm.
    await ctx.runtime.audit
      .record({ event: 'session.signed-out', user: session.email, sub: session.sub, sid: session.idpSid, sessionId: session.id, by: session.email, requestId: ctx.id, sourceAddress: ctx.clientAddress }, { notify: false })
      .catch((error: unknown) => log.error({ requestId: ctx.id, user: session.email, err: String(error) }, 'sign-out could not be audited'));
    if (session.refreshToken) {
      await oidc.revokeRefreshToken(session.refreshToken).catch((error: unknown) => {
        log.warn({ requestId: ctx.id, user: session.sub, err: String((error as Error).cause ?? error) }, 'refresh token revocation failed');
      });
    }
  }
  return oidc.endSessionUrl(session?.idToken, signedOut)?.href ?? signedOut;
}

function loginCookie(ctx: RequestContext, name: string, value: string, maxAge: number): string {
  return stringifySetCookie(name, value, {
    httpOnly: true,
    secure: ctx.listener.secureCookies,
    // Lax lets the cookie ride along on the IdP's top-level redirect back to us.
    sameSite: 'lax',
    path: CALLBACK_PATH,
    maxAge,
    domain: ctx.runtime.config.session.cookieDomain,
  });
}

function isLoginState(value: unknown): value is LoginState {
  const v = value as Partial<LoginState> | undefined;
  return !!v && [v.state, v.nonce, v.codeVerifier, v.redirectUri, v.returnTo].every((f) => typeof f === 'string') && typeof v.startedAtMs === 'number';
}
