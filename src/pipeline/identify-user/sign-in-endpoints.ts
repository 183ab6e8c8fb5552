// The sign-in round trip's endpoints under /.trustgate/: sign-in, the OIDC callback, sign-out
// (confirmation page + CSRF-protected POST), the signed-out page and back-channel logout. The gateway
// mounts them on every host, the admin host included.
import { GatewayError } from '../../errors.ts';
import type { RequestContext } from '../request-context.ts';
import type { Endpoints } from '../internal-endpoints.ts';
import { servedOrigins } from '../served-origins.ts';
import { isTopLevelNavigation } from '../../http/fetch-metadata.ts';
import { redirect, sendError, sendPage } from '../../http/respond.ts';
import { finishLogin, startLogin } from './login-flow.ts';
import { safeReturnUrl } from './return-url.ts';
import { showSignOut, signOut } from './sign-out.ts';
import { backchannelLogout } from './backchannel-logout.ts';

export const signInEndpoints: Endpoints = {
  login: { methods: ['GET'], handle: login },
  callback: { methods: ['GET'], handle: callback },
  logout: { methods: ['GET', 'POST'], handle: (ctx) => (ctx.req.method === 'POST' ? signOut(ctx) : showSignOut(ctx)) },
  'backchannel-logout': { methods: ['POST'], handle: backchannelLogout },
  'signed-out': { methods: ['GET'], handle: (ctx) => sendPage(ctx, 200, 'signed-out', { title: 'Signed out' }) },
};

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
