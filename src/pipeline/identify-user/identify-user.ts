// Stage 1: who is this? Reads the session cookie (decoded sessions are cached), checks the revocation
// list on every request (the cache never skips it), enforces lifetime and idle timeout, refreshes IdP tokens shortly before they expire (a failed refresh ends the session) and
// slides the idle window by re-sealing the cookie now and then, not on every request.
import { parseCookie } from 'cookie';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext, Runtime } from '../request-context.ts';
import type { Session } from './session-cookie.ts';
import type { Reason } from '../../config/reasons.ts';

export type SessionProblem = Extract<Reason, 'session-missing' | 'session-invalid' | 'session-expired' | 'session-idle' | 'session-refresh-failed' | 'session-revoked'>;

export type UserResult = { readonly session: Session; readonly problem?: undefined } | { readonly session?: undefined; readonly problem: SessionProblem };

/** What this stage reads of a request: its id (for logs), its cookies, and whether cookies it sets are Secure. */
export interface UserRequest {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly secureCookies: boolean;
}

export type UserDeps = Pick<Runtime, 'sessions' | 'config' | 'now' | 'revocation' | 'oidc' | 'log'>;

/** The user and the Set-Cookie header the response should carry (a re-sealed session, or one clearing it). */
export type IdentifiedUser = UserResult & { readonly setCookie?: string | undefined };

export async function identifyUser(request: UserRequest, deps: UserDeps, options: { canSetCookie: boolean }): Promise<IdentifiedUser> {
  const { sessions, config, now } = deps;
  const value = cookieOf(request.headers, sessions.name);
  if (!value) return { problem: 'session-missing' };
  const session = await sessions.read(value);
  const nowMs = now();
  const problem = !session
    ? 'session-invalid'
    : nowMs >= session.expiresAtMs
      ? 'session-expired'
      : nowMs - session.lastSeenAtMs > config.session.idleTimeout
        ? 'session-idle'
        : deps.revocation.isRevoked(session)
          ? 'session-revoked'
          : undefined;
  const end = (ended: SessionProblem): IdentifiedUser =>
    options.canSetCookie ? { problem: ended, setCookie: sessions.clearCookieHeader({ secure: request.secureCookies }) } : { problem: ended };
  if (problem || !session) return end(problem ?? 'session-invalid');
  if (!options.canSetCookie) return { session };

  if (needsRefresh(session, nowMs, config.session.refreshBefore)) {
    const refreshed = await refreshOnce(deps, request.id, value, session);
    if (!refreshed) return end('session-refresh-failed');
    return { session: refreshed, setCookie: await sealedCookie(deps, refreshed, request.secureCookies) };
  }
  const touchEveryMs = Math.min(config.session.idleTimeout / 10, 5 * 60_000);
  if (nowMs - session.lastSeenAtMs > touchEveryMs) {
    const touched = { ...session, lastSeenAtMs: nowMs };
    return { session: touched, setCookie: await sealedCookie(deps, touched, request.secureCookies) };
  }
  return { session };
}

/** identifyUser for a proxied request: its Set-Cookie goes on this request's response. */
export async function identifyUserFor(ctx: RequestContext, options: { canSetCookie: boolean }): Promise<UserResult> {
  const { setCookie, ...user } = await identifyUser(userRequestOf(ctx), ctx.runtime, options);
  if (setCookie !== undefined) ctx.setCookies.push(setCookie);
  return user;
}

export function userRequestOf(ctx: RequestContext): UserRequest {
  return { id: ctx.id, headers: ctx.req.headers, secureCookies: ctx.listener.secureCookies };
}

export function readCookie(ctx: RequestContext, name: string): string | undefined {
  return cookieOf(ctx.req.headers, name);
}

function cookieOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const header = headers.cookie;
  if (!header) return undefined;
  return parseCookie(header)[name] || undefined;
}

export async function issueCookie(ctx: RequestContext, session: Session): Promise<void> {
  ctx.setCookies.push(await sealedCookie(ctx.runtime, session, ctx.listener.secureCookies));
}

async function sealedCookie(deps: Pick<Runtime, 'sessions'>, session: Session, secure: boolean): Promise<string> {
  return deps.sessions.setCookieHeader(await deps.sessions.seal(session), { secure });
}

function needsRefresh(session: Session, nowMs: number, refreshBeforeMs: number): boolean {
  return session.refreshToken !== undefined && session.tokenExpiresAtMs !== undefined && session.tokenExpiresAtMs - refreshBeforeMs <= nowMs;
}

/** One refresh per session at a time: parallel requests of one browser share it. */
export function refreshOnce(deps: UserDeps, requestId: string, cookieValue: string, session: Session): Promise<Session | undefined> {
  const refreshing = deps.sessions.refreshing;
  let pending = refreshing.get(cookieValue);
  if (!pending) {
    pending = refresh(deps, requestId, session).finally(() => refreshing.delete(cookieValue));
    refreshing.set(cookieValue, pending);
  }
  return pending;
}

async function refresh(deps: UserDeps, requestId: string, session: Session): Promise<Session | undefined> {
  const { oidc, now, log } = deps;
  try {
    const identity = await oidc.refresh(session.refreshToken as string, { sub: session.sub });
    if (identity.sub !== session.sub) return undefined;
    return {
      ...session,
      idpSid: identity.sid ?? session.idpSid,
      email: identity.email,
      name: identity.name ?? session.name,
      groups: identity.groups,
      lastSeenAtMs: now(),
      tokenExpiresAtMs: identity.tokenExpiresAtMs,
      refreshToken: identity.refreshToken ?? session.refreshToken,
      accessToken: identity.accessToken ?? session.accessToken,
      idToken: identity.idToken ?? session.idToken,
      groupsConfirmedAtMs: now(),
    };
  } catch (error) {
    log.info({ requestId, user: session.sub, err: (error as Error).message }, 'session refresh failed; signing out');
    return undefined;
  }
}
