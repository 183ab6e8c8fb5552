// Stage 1: who is this? Reads the session cookie (decoded sessions are cached), checks the revocation
// list on every request (the cache never skips it), enforces lifetime and idle timeout, refreshes IdP tokens shortly before they expire (a failed refresh ends the session) and
// slides the idle window by re-sealing the cookie now and then, not on every request.
import { parseCookie } from 'cookie';
import type { RequestContext } from '../request-context.ts';
import type { Session } from './session-cookie.ts';
import type { Reason } from '../../config/reasons.ts';

export type SessionProblem = Extract<Reason, 'session-missing' | 'session-invalid' | 'session-expired' | 'session-idle' | 'session-refresh-failed' | 'session-revoked'>;

export type UserResult = { readonly session: Session; readonly problem?: undefined } | { readonly session?: undefined; readonly problem: SessionProblem };

export async function identifyUser(ctx: RequestContext, options: { canSetCookie: boolean }): Promise<UserResult> {
  const { sessions, config, now } = ctx.runtime;
  const value = readCookie(ctx, sessions.name);
  if (!value) return { problem: 'session-missing' };
  const session = await sessions.read(value);
  const nowMs = now();
  const problem = !session
    ? 'session-invalid'
    : nowMs >= session.expiresAtMs
      ? 'session-expired'
      : nowMs - session.lastSeenAtMs > config.session.idleTimeout
        ? 'session-idle'
        : ctx.runtime.revocation.isRevoked(session)
          ? 'session-revoked'
          : undefined;
  if (problem || !session) return endSession(ctx, problem ?? 'session-invalid', options);
  if (!options.canSetCookie) return { session };

  if (needsRefresh(session, nowMs, config.session.refreshBefore)) {
    const refreshed = await refreshOnce(ctx, value, session);
    if (!refreshed) return endSession(ctx, 'session-refresh-failed', options);
    await issueCookie(ctx, refreshed);
    return { session: refreshed };
  }
  const touchEveryMs = Math.min(config.session.idleTimeout / 10, 5 * 60_000);
  if (nowMs - session.lastSeenAtMs > touchEveryMs) {
    const touched = { ...session, lastSeenAtMs: nowMs };
    await issueCookie(ctx, touched);
    return { session: touched };
  }
  return { session };
}

export function readCookie(ctx: RequestContext, name: string): string | undefined {
  const header = ctx.req.headers.cookie;
  if (!header) return undefined;
  return parseCookie(header)[name] || undefined;
}

export async function issueCookie(ctx: RequestContext, session: Session): Promise<void> {
  const { sessions } = ctx.runtime;
  const value = await sessions.seal(session);
  ctx.setCookies.push(sessions.setCookieHeader(value, { secure: ctx.listener.secureCookies }));
}

function endSession(ctx: RequestContext, problem: SessionProblem, options: { canSetCookie: boolean }): UserResult {
  if (options.canSetCookie) ctx.setCookies.push(ctx.runtime.sessions.clearCookieHeader({ secure: ctx.listener.secureCookies }));
  return { problem };
}

function needsRefresh(session: Session, nowMs: number, refreshBeforeMs: number): boolean {
  return session.refreshToken !== undefined && session.tokenExpiresAtMs !== undefined && session.tokenExpiresAtMs - refreshBeforeMs <= nowMs;
}

/** One refresh per session at a time: parallel requests of one browser share it. */
export function refreshOnce(ctx: RequestContext, cookieValue: string, session: Session): Promise<Session | undefined> {
  const refreshing = ctx.runtime.sessions.refreshing;
  let pending = refreshing.get(cookieValue);
  if (!pending) {
    pending = refresh(ctx, session).finally(() => refreshing.delete(cookieValue));
    refreshing.set(cookieValue, pending);
  }
  return pending;
}

async function refresh(ctx: RequestContext, session: Session): Promise<Session | undefined> {
  const { oidc, now, log } = ctx.runtime;
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
    log.info({ requestId: ctx.id, user: session.sub, err: (error as Error).message }, 'session refresh failed; signing out');
    return undefined;
  }
}
