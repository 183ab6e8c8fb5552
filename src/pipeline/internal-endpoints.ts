// The gateway's own endpoints under /.trustgate/: health, readiness, sign-in, callback, sign-out
// (confirmation page + CSRF-protected POST), back-channel logout on every host; the admin console
// ("admin…") only on admin.host (see admin-host.ts). They are matched on the
// normalised path, so "/app/../.trustgate/x" lands here too.
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import { finishLogin, startLogin } from '../pipeline/identify-user/login-flow.ts';
import { safeReturnUrl } from '../pipeline/identify-user/return-url.ts';
import { servedOrigins } from '../pipeline/served-origins.ts';
import { isTopLevelNavigation } from './fetch-metadata.ts';
import { redirect, sendError, sendJson, sendPage } from './respond.ts';
import { acknowledgeDeviceWarning, recheckDevice, sendMetrics } from './device-forms.ts';
import { requestBreakGlass, showBreakGlassForm } from './break-glass-forms.ts';
import { revokeGrant, showGrants } from './admin-grants.ts';
import { previewRoute, routeForm, showRoutes } from './admin-routes.ts';
import { deleteRoute, rollback, saveRoute } from './admin-changes.ts';
import { showDecisions, showHistory } from './admin-history.ts';
import { showSignOut, signOut } from './sign-out.ts';
import { backchannelLogout } from './backchannel-logout.ts';
import { revokeUserSessions, showSessions } from './admin-sessions.ts';
import { checkHandlerHost } from './admin-host.ts';

export const INTERNAL_PREFIX = '/.trustgate/';

type Handler = (ctx: RequestContext) => Promise<void> | void;

const HANDLERS: Record<string, { methods: readonly string[]; handle: Handler }> = {
  healthz: { methods: ['GET', 'HEAD'], handle: (ctx) => sendJson(ctx, 200, { status: 'ok' }) },
  readyz: { methods: ['GET', 'HEAD'], handle: readiness },
  login: { methods: ['GET'], handle: login },
  callback: { methods: ['GET'], handle: callback },
  logout: { methods: ['GET', 'POST'], handle: (ctx) => (ctx.req.method === 'POST' ? signOut(ctx) : showSignOut(ctx)) },
  'backchannel-logout': { methods: ['POST'], handle: backchannelLogout },
  'signed-out': { methods: ['GET'], handle: (ctx) => sendPage(ctx, 200, 'signed-out', { title: 'Signed out' }) },
  recheck: { methods: ['POST'], handle: recheckDevice },
  acknowledge: { methods: ['POST'], handle: acknowledgeDeviceWarning },
  metrics: { methods: ['GET'], handle: sendMetrics },
  'break-glass': { methods: ['GET', 'POST'], handle: (ctx) => (ctx.req.method === 'POST' ? requestBreakGlass(ctx) : showBreakGlassForm(ctx)) },
  'admin/grants': { methods: ['GET'], handle: showGrants },
  'admin/grants/revoke': { methods: ['POST'], handle: revokeGrant },
  admin: { methods: ['GET'], handle: showRoutes },
  'admin/routes/edit': { methods: ['GET', 'POST'], handle: routeForm },
  'admin/routes/preview': { methods: ['POST'], handle: previewRoute },
  'admin/routes/save': { methods: ['POST'], handle: saveRoute },
  'admin/routes/delete': { methods: ['POST'], handle: deleteRoute },
  'admin/history': { methods: ['GET'], handle: showHistory },
  'admin/history/rollback': { methods: ['POST'], handle: rollback },
  'admin/decisions': { methods: ['GET'], handle: showDecisions },
  'admin/sessions': { methods: ['GET'], handle: showSessions },
  'admin/sessions/revoke': { methods: ['POST'], handle: revokeUserSessions },
};

export async function handleInternal(ctx: RequestContext): Promise<void> {
  const name = (ctx.target?.path ?? '').slice(INTERNAL_PREFIX.length).replace(/\/$/, '');
  // Before the method check: a 405 would tell a route host's visitor that the console exists.
  checkHandlerHost(ctx, name);
  const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
  if (!handler) throw new GatewayError('TG_ERR_NO_ROUTE', 'There is no such gateway page.');
  if (!handler.methods.includes(ctx.req.method ?? '')) {
    ctx.res?.setHeader('allow', handler.methods.join(', '));
    throw new GatewayError('TG_ERR_BAD_REQUEST', `Use ${handler.methods.join(' or ')} here.`, { status: 405 });
  }
  await handler.handle(ctx);
}

function readiness(ctx: RequestContext): void {
  const idp = ctx.runtime.oidc.isReady();
  // Kick a discovery attempt so readiness recovers as soon as the IdP does.
  if (!idp) ctx.runtime.oidc.ready().catch(() => {});
  sendJson(ctx, idp ? 200 : 503, { status: idp ? 'ready' : 'not-ready', checks: { config: true, idp } });
}

async function login(ctx: RequestContext): Promise<void> {
  const requested = new URLSearchParams(ctx.target?.query ?? '').get('rd');
  const returnTo = safeReturnUrl(requested ?? '/', servedOrigins(ctx));
  if (!returnTo) throw new GatewayError('TG_ERR_BAD_REQUEST', 'That return address is not an application behind this gateway.');
  if (!isTopLevelNavigation(ctx.req)) throw new GatewayError('TG_ERR_UNAUTHENTICATED', 'Open this sign-in link as a page in the browser.');
  redirect(ctx, await startLogin(ctx, returnTo));
}

async function callback(ctx: RequestContext): Promise<void> {
  try {
    redirect(ctx, await finishLogin(ctx, (ctx.target?.query ?? '').replace(/^\?/, '')));
  } catch (error) {
    sendError(ctx, error, [{ label: 'Sign in again', href: '/' }]);
  }
}
