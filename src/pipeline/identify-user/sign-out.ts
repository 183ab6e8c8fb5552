// Sign-out: GET /.trustgate/logout shows a confirmation page, POST signs out — only with a CSRF token,
// bound to the live session, or (without one) to a random cookie value, so no other site can sign a
// user out or bounce them through the IdP's end-session endpoint.
import { randomBytes } from 'node:crypto';
import { stringifySetCookie } from 'cookie';
import { GatewayError } from '../../errors.ts';
import { requestOrigin, type RequestContext } from '../request-context.ts';
import { identifyUserFor, readCookie } from './identify-user.ts';
import { logout } from './login-flow.ts';
import { readForm } from '../../http/read-form.ts';
import { redirect, sendPage } from '../../http/respond.ts';

export const SIGN_OUT_PATH = '/.trustgate/logout';

function anonymousCookieName(ctx: RequestContext): string {
  return `${ctx.runtime.sessions.name}_signout`;
}

function anonymousCookie(ctx: RequestContext, value: string, maxAge: number): string {
  return stringifySetCookie(anonymousCookieName(ctx), value, { httpOnly: true, secure: ctx.listener.secureCookies, sameSite: 'strict', path: SIGN_OUT_PATH, maxAge });
}

export async function showSignOut(ctx: RequestContext): Promise<void> {
  const user = await identifyUserFor(ctx, { canSetCookie: false });
  ctx.session = user.session;
  let csrf: string;
  if (user.session) {
    csrf = ctx.runtime.csrf.token(user.session);
  } else {
    const value = randomBytes(24).toString('base64url');
    ctx.setCookies.push(anonymousCookie(ctx, value, 3600));
    csrf = ctx.runtime.csrf.anonymousToken(value);
  }
  const { issuer, postLogoutRedirectUrl } = ctx.runtime.config.oidc;
  const formActions = [...new Set([issuer, postLogoutRedirectUrl].flatMap((url) => (url ? [new URL(url).origin] : [])))];
  sendPage(ctx, 200, 'sign-out', { csrf, signedIn: user.session !== undefined, action: SIGN_OUT_PATH }, { formActions });
}

export async function signOut(ctx: RequestContext): Promise<void> {
  const form = await readForm(ctx.req);
  const user = await identifyUserFor(ctx, { canSetCookie: false });
  const { csrf } = ctx.runtime;
  const header = ctx.req.headers.origin;
  const origin = typeof header === 'string' ? header : undefined;
  const token = form.get('csrf') ?? undefined;
  const valid = user.session
    ? csrf.verify(user.session, token, origin, requestOrigin(ctx))
    : csrf.verifyAnonymous(readCookie(ctx, anonymousCookieName(ctx)), token, origin, requestOrigin(ctx));
  if (!valid) {
    throw new GatewayError('TG_ERR_FORBIDDEN', 'This sign-out form has expired or did not come from this gateway. Open the sign-out page again and press Sign out.', { details: { reason: 'csrf' } });
  }
  ctx.session = user.session;
  ctx.setCookies.push(anonymousCookie(ctx, '', 0));
  redirect(ctx, await logout(ctx, user.session));
}
