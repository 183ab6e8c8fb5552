// Re-confirms a session's groups with the IdP when they are older than a limit (admin pages): a refresh-token
// grant (fresh ID token claims) or, without a refresh token, the userinfo endpoint. Groups that cannot be
// confirmed are never trusted as they are: the caller refuses (fail closed).
import type { RequestContext } from '../request-context.ts';
import { issueCookie, readCookie, refreshOnce } from './identify-user.ts';
import type { Session } from './session-cookie.ts';

export type GroupsResult = { readonly session: Session; readonly problem?: undefined } | { readonly session?: undefined; readonly problem: 'groups-unconfirmed' };

export async function confirmGroups(ctx: RequestContext, session: Session, maxAgeMs: number): Promise<GroupsResult> {
  const { now, log } = ctx.runtime;
  const confirmedAtMs = session.groupsConfirmedAtMs ?? session.createdAtMs;
  if (now() - confirmedAtMs <= maxAgeMs) return { session };
  const confirmed = await confirmWithIdp(ctx, session);
  if (!confirmed) {
    log.info({ requestId: ctx.id, user: session.sub }, 'groups could not be confirmed with the IdP');
    return { problem: 'groups-unconfirmed' };
  }
  await issueCookie(ctx, confirmed);
  return { session: confirmed };
}

async function confirmWithIdp(ctx: RequestContext, session: Session): Promise<Session | undefined> {
  const { oidc, now, sessions } = ctx.runtime;
  if (session.refreshToken) {
    const cookieValue = readCookie(ctx, sessions.name) ?? '';
    return refreshOnce(ctx.runtime, ctx.id, cookieValue, session);
  }
  if (!session.accessToken) return undefined;
  try {
    const claims = await oidc.userinfo(session.accessToken, session.sub);
    return { ...session, email: claims.email, name: claims.name ?? session.name, groups: claims.groups, groupsConfirmedAtMs: now() };
  } catch {
    return undefined;
  }
}
