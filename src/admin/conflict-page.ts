// The 409 page when someone else saved first: what changed between the version the admin started from and
// the current one, and a way to reopen their form on the current version. Nothing is ever overwritten.
import type { RequestContext, Runtime } from '../pipeline/request-context.ts';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import { textDiff, type DiffLine } from './text-diff.ts';
import { routeFormEntries, type RouteForm } from './route-form.ts';
import { ADMIN_BASE, formBasics } from './console-front.ts';
import { sendPage } from '../http/respond.ts';

export async function sendConflict(ctx: RequestContext, session: Session, baseVersion: string, form: RouteForm | undefined): Promise<void> {
  const store = (ctx.runtime.admin as NonNullable<Runtime['admin']>).store;
  const current = await store.current();
  const before = await store.textOf(baseVersion).catch(() => undefined);
  const diff: DiffLine[] | undefined = before === undefined ? undefined : textDiff(before, current.text, { before: `version ${baseVersion}`, after: `version ${current.version}` });
  const history = await store.history();
  const latest = history.find((h) => h.version === current.version);
  sendPage(ctx, 409, 'admin-conflict', {
    title: 'Someone else saved first',
    baseVersion,
    currentVersion: current.version,
    savedBy: latest ? `${latest.author} at ${latest.time}${latest.comment ? ` (“${latest.comment}”)` : ''}` : 'an edit on disk',
    diff,
    // Reopening carries the admin's own input over, now based on the current version: they preview again.
    reopen: form ? [...routeFormEntries(form), ['baseVersion', current.version]] : undefined,
    startOver: form?.originalName ? `${ADMIN_BASE}/routes/edit?name=${encodeURIComponent(form.originalName)}` : `${ADMIN_BASE}/`,
    ...formBasics(ctx, session, `${ADMIN_BASE}/`),
  });
}
