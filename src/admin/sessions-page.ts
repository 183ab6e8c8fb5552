// The admins' "sign this user out": every session of a user (matched by subject and by e-mail) that
// started before now is revoked on every replica, including copies of the cookie elsewhere.
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import { ADMIN_BASE, adminForm, adminForPage, formBasics, queryOf } from './console-front.ts';
import { redirect, sendPage } from '../http/respond.ts';

const PAGE = `${ADMIN_BASE}/sessions`;

export async function showSessions(ctx: RequestContext): Promise<void> {
  const admin = await adminForPage(ctx);
  if (!admin) return;
  const done = queryOf(ctx).get('signed-out');
  sendPage(ctx, 200, 'admin-sessions', { notice: done ? `Every session of ${done} has been ended.` : null, problem: null, value: '', ...formBasics(ctx, admin, PAGE) });
}

export async function revokeUserSessions(ctx: RequestContext): Promise<void> {
  const { admin, form } = await adminForm(ctx);
  const user = (form.get('user') ?? '').trim();
  if (user === '' || user.length > 256 || /[\x00-\x1f\x7f]/.test(user)) {
    sendPage(ctx, 400, 'admin-sessions', { notice: null, problem: 'Enter the user’s e-mail address or subject (at most 256 characters).', value: user.slice(0, 256), ...formBasics(ctx, admin, PAGE) });
    return;
  }
  const { revocation, config, log } = ctx.runtime;
  try {
    await revocation.revokeUser({ sub: user, email: user.includes('@') ? user : undefined }, config.session.lifetime);
  } catch (error) {
    throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', 'The sessions could not be ended: the session store is unavailable. Try again.', { cause: error });
  }
  log.info({ requestId: ctx.id, user, by: admin.email }, 'admin signed a user out everywhere');
  redirect(ctx, `${PAGE}?signed-out=${encodeURIComponent(user)}`);
}
