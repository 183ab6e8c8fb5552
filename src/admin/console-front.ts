// The common front of the admin console's pages: anonymous visitors go to sign-in, non-admins get 403,
// every POST carries a CSRF token, and edits need a config file (runtime.admin) to write to.
import { readFile } from 'node:fs/promises';
import { GatewayError } from '../errors.ts';
import type { ConfigStore } from './config-store.ts';
import { versionOf } from '../config/version-of.ts';
import { requestOrigin, type RequestContext, type Runtime } from '../pipeline/request-context.ts';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import { identifyUserFor } from '../pipeline/identify-user/identify-user.ts';
import { acceptForm } from '../pipeline/accept-form.ts';
import { requireAdmin } from './grants-page.ts';
import { redirect } from '../http/respond.ts';

export const ADMIN_BASE = '/.trustgate/admin';

/** For GET pages: the admin's session, or undefined after redirecting an anonymous visitor to sign-in. */
export async function adminForPage(ctx: RequestContext): Promise<Session | undefined> {
  const signedIn = await identifyUserFor(ctx, { canSetCookie: true });
  if (!signedIn.session) {
    redirect(ctx, `/.trustgate/login?rd=${encodeURIComponent(ctx.target?.forwardTarget ?? `${ADMIN_BASE}/`)}`);
    return undefined;
  }
  return requireAdmin(ctx);
}

/** For POSTs: session, CSRF token and same-host return URL first, then admin membership. */
export async function adminForm(ctx: RequestContext): Promise<{ admin: Session; form: URLSearchParams }> {
  const { form } = await acceptForm(ctx);
  const admin = await requireAdmin(ctx);
  return { admin, form };
}

export function editableStore(ctx: RequestContext): NonNullable<Runtime['admin']> {
  const admin = ctx.runtime.admin;
  if (!admin) throw new GatewayError('TG_ERR_BAD_REQUEST', 'This gateway was started without a config file, so its configuration is read-only here.', { status: 409 });
  return admin;
}

/** What every admin page's forms need: the CSRF token and the absolute URL to come back to. */
export function formBasics(ctx: RequestContext, session: Session, path: string): { csrf: string; self: string } {
  return { csrf: ctx.runtime.csrf.token(session), self: `${requestOrigin(ctx)}${path}` };
}

export function queryOf(ctx: RequestContext): URLSearchParams {
  return new URLSearchParams(ctx.target?.query ?? '');
}

/** The file's version and text without validating it: an invalid file on disk must still be replaceable. */
export async function fileVersion(store: ConfigStore): Promise<{ version: string; text: string }> {
  const text = await readFile(store.file, 'utf8');
  return { version: versionOf(text), text };
}
