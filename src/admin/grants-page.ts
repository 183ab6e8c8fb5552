// The admins' view of break-glass grants: active and recent ones with their reasons, and revocation
// (audited; the store is shared, so it takes effect on the next request on every replica).
import { GatewayError } from '../errors.ts';
import { requestOrigin, type RequestContext } from '../pipeline/request-context.ts';
import { identifyUserFor } from '../pipeline/identify-user/identify-user.ts';
import { confirmGroups } from '../pipeline/identify-user/confirm-groups.ts';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import { isActive } from '../break-glass/grant.ts';
import { acceptForm } from '../pipeline/accept-form.ts';
import { redirect, sendPage } from '../http/respond.ts';

/**
 * Signed-in members of the admin groups only, as the IdP confirmed within admin.groupsMaxAge; everyone else
 * gets the 403 page, and a session whose groups cannot be confirmed now is sent to sign in again.
 */
export async function requireAdmin(ctx: RequestContext): Promise<NonNullable<RequestContext['session']>> {
  const user = await identifyUserFor(ctx, { canSetCookie: true });
  if (!user.session) throw new GatewayError('TG_ERR_UNAUTHENTICATED', 'Sign in first.');
  ctx.session = user.session;
  const { groups, groupsMaxAge } = ctx.runtime.config.admin;
  const isAdmin = (session: Session) => session.groups.some((g) => groups.includes(g));
  const notAdmin = () => new GatewayError('TG_ERR_FORBIDDEN', 'The admin pages are for members of the Trustgate admin group.');
  if (!isAdmin(user.session)) throw notAdmin();
  const confirmed = await confirmGroups(ctx, user.session, groupsMaxAge);
  if (!confirmed.session) {
    throw new GatewayError('TG_ERR_REAUTH_REQUIRED', 'Your admin rights could not be confirmed with the identity provider just now, so the admin pages stay closed. Sign in again to continue.', { details: { reason: 'admin-groups-unconfirmed' } });
  }
  ctx.session = confirmed.session;
  if (!isAdmin(confirmed.session)) throw notAdmin();
  return confirmed.session;
}

export async function showGrants(ctx: RequestContext): Promise<void> {
  const signedIn = await identifyUserFor(ctx, { canSetCookie: true });
  if (!signedIn.session) return redirect(ctx, `/.trustgate/login?rd=${encodeURIComponent('/.trustgate/admin/grants')}`);
  const session = await requireAdmin(ctx);
  const service = ctx.runtime.breakGlass;
  const nowMs = ctx.runtime.now();
  const grants = service ? await service.list({ limit: 200 }) : [];
  const view = (g: (typeof grants)[number]) => ({
    ...g,
    until: new Date(g.expiresAtMs).toUTCString(),
    firstUsed: g.firstUsedAtMs !== undefined,
    state: g.revokedAtMs !== undefined ? `revoked by ${g.revokedBy ?? '?'} at ${new Date(g.revokedAtMs).toUTCString()}` : `expired ${new Date(g.expiresAtMs).toUTCString()}`,
  });
  const notice = new URLSearchParams(ctx.target?.query ?? '').get('revoked') ? 'The grant was revoked.' : service ? null : 'No route allows emergency access.';
  sendPage(ctx, 200, 'admin-grants', {
    notice,
    active: grants.filter((g) => isActive(g, nowMs)).map(view),
    past: grants.filter((g) => !isActive(g, nowMs)).map(view),
    csrf: ctx.runtime.csrf.token(session),
    self: `${requestOrigin(ctx)}/.trustgate/admin/grants`,
  });
}

export async function revokeGrant(ctx: RequestContext): Promise<void> {
  const { form } = await acceptForm(ctx);
  const admin = await requireAdmin(ctx);
  const service = ctx.runtime.breakGlass;
  const id = form.get('id') ?? '';
  const grant = service ? await service.revoke(id, admin.email) : undefined;
  if (!service || !grant) throw new GatewayError('TG_ERR_NO_ROUTE', 'There is no such grant.');
  const route = ctx.runtime.config.routes.find((r) => (r.breakGlass?.group ?? r.name) === grant.route);
  await service.audit(
    { event: 'break-glass.revoked', user: grant.user, device: grant.deviceKey, route: grant.route, grantId: grant.id, by: admin.email, reason: grant.reason, requestId: ctx.id, sourceAddress: ctx.clientAddress },
    { notify: route?.breakGlass?.notify ?? true },
  );
  redirect(ctx, '/.trustgate/admin/grants?revoked=1');
}
