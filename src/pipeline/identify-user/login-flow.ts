// The sign-in round trip: start (PKCE verifier, state and nonce sealed into a short-lived cookie scoped to
// the callback path), callback (checks, code exchange, new session) and logout (RP-initiated where the
// IdP supports it). https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import { stringifySetCookie } from 'cookie';
import { GatewayError } from '../../errors.ts';
import { requestOrigin, type RequestContext } from '../request-context.ts';
import { issueCookie, readCookie } from './identify-user.ts';
import { safeReturnUrl } from './return-url.ts';
import type { Session } from './session-cookie.ts';

export const CALLBACK_PATH = '/.trustgate/callback';
const LOGIN_TTL_MS = 10 * 60_000;

interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  returnTo: string;
}

export function loginCookieName(ctx: RequestContext): string {
  return `${ctx.runtime.sessions.name}_login`;
}

/** Redirects the browser to the IdP; `returnTo` must already be validated. */
export async function startLogin(ctx: RequestContext, returnTo: string): Promise<string> {
  const { oidc, loginSealer, now, config } = ctx.runtime;
  const checks: LoginState = {
    state: randomState(),
    nonce: randomNonce(),
    codeVerifier: randomPKCECodeVerifier(),
    redirectUri: config.oidc.redirectUrl ?? `${requestOrigin(ctx)}${CALLBACK_PATH}`,
    returnTo,
  };
  const url = await oidc.authorizationUrl(checks);
  const sealed = await loginSealer.seal({ ...checks }, now() + LOGIN_TTL_MS);
  ctx.setCookies.push(loginCookie(ctx, sealed, Math.floor(LOGIN_TTL_MS / 1000)));
  return url.href;
}

/** Handles /.trustgate/callback: returns where to send the user, with the session cookie set. */
export async function finishLogin(ctx: RequestContext, query: string): Promise<string> {
  const { loginSealer, oidc, now, config, routes } = ctx.runtime;
  const params = new URLSearchParams(query);
  ctx.setCookies.push(loginCookie(ctx, '', 0));
  const error = params.get('error');
  if (error) {
    const message = error === 'access_denied' ? 'Sign-in was cancelled or refused by the identity provider.' : `The identity provider reported an error (${error}).`;
    throw new GatewayError('TG_ERR_SIGNIN_FAILED', message, { details: { error } });
  }
  const sealed = readCookie(ctx, loginCookieName(ctx));
  const payload = sealed ? await loginSealer.open(sealed, now()) : undefined;
  if (!isLoginState(payload)) {
    throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'This sign-in link has expired or was started in another browser. Please start again.');
  }
  if (params.get('state') !== payload.state) {
    throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'This sign-in response does not belong to your sign-in attempt. Please start again.');
  }
  const identity = await oidc.exchangeCode(query, payload);
  const nowMs = now();
  const session: Session = {
    sub: identity.sub,
    email: identity.email,
    name: identity.name,
    groups: identity.groups,
    createdAtMs: nowMs,
    lastSeenAtMs: nowMs,
    expiresAtMs: nowMs + config.session.lifetime,
    tokenExpiresAtMs: identity.tokenExpiresAtMs,
    refreshToken: identity.refreshToken,
    idToken: identity.idToken,
  };
  await issueCookie(ctx, session);
  ctx.session = session;
  return safeReturnUrl(payload.returnTo, requestOrigin(ctx), routes.servesHost) ?? `${requestOrigin(ctx)}/`;
}

/** Clears the session and returns the IdP's end-session URL (or our signed-out page). */
export async function logout(ctx: RequestContext): Promise<string> {
  const { sessions, oidc, config } = ctx.runtime;
  const value = readCookie(ctx, sessions.name);
  const session = value ? await sessions.read(value) : undefined;
  ctx.setCookies.push(sessions.clearCookieHeader({ secure: ctx.listener.secureCookies }));
  const signedOut = config.oidc.postLogoutRedirectUrl ?? `${requestOrigin(ctx)}/.trustgate/signed-out`;
  if (!session) return signedOut;
  return oidc.endSessionUrl(session.idToken, signedOut)?.href ?? signedOut;
}

function loginCookie(ctx: RequestContext, value: string, maxAge: number): string {
  return stringifySetCookie(loginCookieName(ctx), value, {
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
  return !!v && [v.state, v.nonce, v.codeVerifier, v.redirectUri, v.returnTo].every((f) => typeof f === 'string');
}
