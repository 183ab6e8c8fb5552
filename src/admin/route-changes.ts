// The admin console's writes: save a route, delete one, roll back to an earlier version. Each goes through
// the config store (validated, conflict-checked against the version the admin saw, atomic, in the history),
// is applied to the running gateway at once, and leaves one structured log line.
import { GatewayError, isGatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import type { ConfigVersion } from './config-store.ts';
import type { RouteForm } from './route-form.ts';
import { changedRoutes, checkEdit } from './plan-edit.ts';
import { applyRouteEdit } from './edit-routes.ts';
import { ENV_REFERENCE_MESSAGE, newEnvReferences } from './env-references.ts';
import { ADMIN_BASE, adminForm, editableStore, fileVersion } from './console-front.ts';
import { sendConflict } from './conflict-page.ts';
import { redirect, sendPage } from '../http/respond.ts';
import { checkedRouteEdit } from './routes-pages.ts';

interface Change {
  readonly kind: 'update' | 'create' | 'delete' | 'rollback';
  readonly route: string | undefined;
  readonly text: string;
  readonly baseVersion: string;
  readonly comment: string;
}

/**
 * Saves `change.text` on top of `current` and applies it. Answers with the conflict page (and returns
 * undefined) when someone else saved first: checked here, and again race-free inside the store.
 */
async function commit(ctx: RequestContext, admin: Session, current: { version: string }, change: Change, form?: RouteForm): Promise<ConfigVersion | undefined> {
  const runtimeAdmin = editableStore(ctx);
  let saved: ConfigVersion;
  try {
    if (current.version !== change.baseVersion) throw new GatewayError('TG_ERR_CONFLICT', 'stale base version');
    saved = await runtimeAdmin.store.save(change.text, { baseVersion: change.baseVersion, author: admin.email, comment: change.comment });
  } catch (error) {
    if (!isGatewayError(error) || error.code !== 'TG_ERR_CONFLICT') throw error;
    await sendConflict(ctx, admin, change.baseVersion, form);
    return undefined;
  }
  runtimeAdmin.apply(saved.config, saved.version);
  ctx.runtime.log.info(
    {
      author: admin.email,
      comment: change.comment,
      change: change.kind,
      route: change.route,
      routes: changedRoutes(ctx.runtime.config, saved.config),
      version: saved.version,
      previous: current.version,
      requestId: ctx.id,
    },
    'configuration changed',
  );
  return saved;
}

const doneUrl = (done: string, version: string): string => `${ADMIN_BASE}/?done=${done}&version=${version}`;

export async function saveRoute(ctx: RequestContext): Promise<void> {
  // The preview checked this text already; checking again turns a surprise into the form, not a 500.
  const checked = await checkedRouteEdit(ctx);
  if (!checked) return;
  const { admin, form, edited, baseVersion, current, plan } = checked;
  const change: Change = { kind: edited.originalName ? 'update' : 'create', route: edited.name, text: plan.text, baseVersion, comment: form.get('comment')?.trim() ?? '' };
  const saved = await commit(ctx, admin, current, change, edited);
  if (saved) redirect(ctx, `${doneUrl('saved', saved.version)}&route=${encodeURIComponent(edited.name)}`);
}

export async function deleteRoute(ctx: RequestContext): Promise<void> {
  const { admin, form } = await adminForm(ctx);
  const store = editableStore(ctx).store;
  const name = form.get('name') ?? '';
  const current = await store.current();
  const text = applyRouteEdit(current.text, { kind: 'delete', name });
  const checked = checkEdit(text, -1, store.env);
  if (!checked.ok) return refuse(ctx, `The route “${name}” cannot be deleted`, checked.problems.general);
  const change: Change = { kind: 'delete', route: name, text, baseVersion: form.get('baseVersion') ?? '', comment: form.get('comment')?.trim() || `deleted route ${name}` };
  const saved = await commit(ctx, admin, current, change);
  if (saved) redirect(ctx, doneUrl('deleted', saved.version));
}

export async function rollback(ctx: RequestContext): Promise<void> {
  const { admin, form } = await adminForm(ctx);
  const store = editableStore(ctx).store;
  const version = form.get('version') ?? '';
  const text = await store.textOf(version);
  // Not store.current(): rolling back must work while the file on disk is invalid.
  const current = await fileVersion(store);
  // An old version can stop being valid (a file it names is gone, an environment variable is unset).
  // Only the file's author adds ${…}: an old version may bring back a reference only where the current
  // file has the same one (a version saved by an older gateway could hold one an admin typed).
  const added = newEnvReferences(current.text, text);
  if (added.length > 0) {
    return refuse(ctx, `Version ${version} cannot be restored from the console`, [...added.map((path) => `${path} ${ENV_REFERENCE_MESSAGE}`), 'restore it by editing the config file']);
  }
  const checked = checkEdit(text, -1, store.env);
  if (!checked.ok) return refuse(ctx, `Version ${version} cannot be restored`, checked.problems.general);
  const change: Change = { kind: 'rollback', route: undefined, text, baseVersion: form.get('baseVersion') ?? '', comment: form.get('comment')?.trim() || `rolled back to version ${version}` };
  const saved = await commit(ctx, admin, current, change);
  if (saved) redirect(ctx, doneUrl('rolled-back', saved.version));
}

function refuse(ctx: RequestContext, title: string, problems: string[]): void {
  sendPage(ctx, 400, 'error', {
    status: 400,
    title: 'Bad request',
    message: `${title}: the result would not be a valid configuration. ${problems.join('; ')}`,
    actions: [{ label: 'Back to the routes', href: `${ADMIN_BASE}/` }],
  });
}
