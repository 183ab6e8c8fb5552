// The common front of the gateway's own forms (check again, continue, emergency access, admin): a signed-in
// session, a valid CSRF token, and a return URL on the host the form was posted to.
import { GatewayError } from '../errors.ts';
import { requestOrigin, type RequestContext } from './request-context.ts';
import { identifyUserFor } from './identify-user/identify-user.ts';
import { servedOrigins } from './served-origins.ts';
import { normalizeTarget } from '../http/normalize-path.ts';
import { readForm } from '../http/read-form.ts';

/** Checks session and CSRF, and points ctx at the page the form came from. Returns that page's URL. */
export async function acceptForm(ctx: RequestContext): Promise<{ returnTo: string; form: URLSearchParams }> {
  const form = await readForm(ctx.req);
  const user = await identifyUserFor(ctx, { canSetCookie: true });
  if (!user.session) throw new GatewayError('TG_ERR_UNAUTHENTICATED', 'Your session has ended. Sign in again.');
  ctx.session = user.session;
  const origin = ctx.req.headers.origin;
  if (!ctx.runtime.csrf.verify(user.session, form.get('csrf') ?? undefined, typeof origin === 'string' ? origin : undefined, requestOrigin(ctx))) {
    throw new GatewayError('TG_ERR_FORBIDDEN', 'This form has expired. Go back, reload the page and try again.', { details: { reason: 'csrf' } });
  }
  let url: URL;
  try {
    url = new URL(form.get('return') ?? '');
  } catch {
    throw new GatewayError('TG_ERR_BAD_REQUEST', 'The form did not say which page to return to.');
  }
  // Only back to this request's own origin, and only when that is a configured one (not a forged Host).
  const own = servedOrigins(ctx).own;
  if (!own || url.origin !== own) throw new GatewayError('TG_ERR_BAD_REQUEST', 'That page is not on this host.');
  ctx.target = normalizeTarget(`${url.pathname}${url.search}`);
  return { returnTo: `${own}${ctx.target.forwardTarget}`, form };
}

