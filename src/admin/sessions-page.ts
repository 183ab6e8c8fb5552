// The admins' "sign this user out": every session of a user (matched by subject and by e-mail) that
// started before now is revoked on every replica, including copies of the cookie elsewhere, and audited.
// The revocation comes first and stands even when the audit trail cannot be written (tightening access
// is never blocked by a sink); the admin is then told so with an error page.
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import type { RevocationRecord } from '../sessions/revocation-record.ts';
import { ADMIN_BASE, adminForm, adminForPage, formBasics, queryOf } from './console-front.ts';
import { redirect, sendPage } from '../http/respond.ts';

const PAGE = `${ADMIN_BASE}/sessions`;
const RECENT_LIMIT = 50;

/** One line of the page's "recent revocations" table. */
function describeRevocation(record: RevocationRecord): { at: string; whom: string; how: string; by: string } {
  const at = new Date(record.atMs ?? 0).toISOString();
  const by = record.by ?? '';
  switch (record.kind) {
    case 'session':
      return { at, whom: record.user ?? record.id, how: 'one session', by };
    case 'idp-session':
      return { at, whom: record.user ?? record.sid, how: `IdP session ${record.sid}`, by };
    case 'user':
      return { at, whom: record.sub, how: 'every session (subject)', by };
    case 'email':
      return { at, whom: record.email, how: 'every session (e-mail)', by };
  }
}

function pageData(ctx: RequestContext) {
  return { recent: ctx.runtime.revocation.recent(RECENT_LIMIT).map(describeRevocation) };
}

export async function showSessions(ctx: RequestContext): Promise<void> {
  const admin = await adminForPage(ctx);
  if (!admin) return;
  const done = queryOf(ctx).get('signed-out');
  sendPage(ctx, 200, 'admin-sessions', { notice: done ? `Every session of ${done} has been ended.` : null, problem: null, value: '', ...pageData(ctx), ...formBasics(ctx, admin, PAGE) });
}

export async function revokeUserSessions(ctx: RequestContext): Promise<void> {
  const { admin, form } = await adminForm(ctx);
  const user = (form.get('user') ?? '').trim();
  if (user === '' || user.length > 256 || /[\x00-\x1f\x7f]/.test(user)) {
    sendPage(ctx, 400, 'admin-sessions', { notice: null, problem: 'Enter the user’s e-mail address or subject (at most 256 characters).', value: user.slice(0, 256), ...pageData(ctx), ...formBasics(ctx, admin, PAGE) });
    return;
  }
  const { revocation, audit, config, log } = ctx.runtime;
  try {
    await revocation.revokeUser({ sub: user, email: user.includes('@') ? user : undefined }, config.session.lifetime, { by: admin.email });
  } catch (error) {
    throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', 'The sessions could not be ended: the session store is unavailable. Try again.', { cause: error });
  }
  log.info({ requestId: ctx.id, user, by: admin.email }, 'admin signed a user out everywhere');
  try {
    await audit.record({ event: 'session.signed-out-by-admin', user, by: admin.email, requestId: ctx.id, sourceAddress: ctx.clientAddress }, { notify: true });
  } catch (error) {
    throw new GatewayError('TG_ERR_AUDIT_UNAVAILABLE', `Every session of ${user} has been ended, but the audit trail could not record it. Tell whoever runs the gateway: the audit file cannot be written.`, { cause: error });
  }
  redirect(ctx, `${PAGE}?signed-out=${encodeURIComponent(user)}`);
}
