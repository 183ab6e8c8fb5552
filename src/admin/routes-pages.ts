// The admin console's route pages: the list, the route form (with Fleet's policies to pick from) and the
// preview, which shows the diff of the config text and who the new rules would affect before anything is saved.
import { GatewayError, toGatewayError } from '../errors.ts';
import type { GatewayConfig, RouteConfig } from '../config/schema.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import type { FleetPolicySummary } from '../pipeline/gather-posture/fleet-schemas.ts';
import { EMPTY_FORM, formFromRoute, keptKeys, rawRoute, readRouteForm, routeFormEntries, splitList, type RouteForm } from './route-form.ts';
import { checkEdit, planRouteEdit } from './plan-edit.ts';
import type { PlacedProblems } from './problem-fields.ts';
import { routeImpact } from './route-impact.ts';
import { textDiff } from './text-diff.ts';
import { describeRoute } from './describe-route.ts';
import { routesAsWritten } from './as-written.ts';
import { envReferenceProblems, newEnvReferences, ENV_REFERENCE_MESSAGE } from './env-references.ts';
import { ADMIN_BASE, adminForm, adminForPage, editableStore, formBasics, queryOf } from './console-front.ts';
import { sendConflict } from './conflict-page.ts';
import { sendPage } from '../http/respond.ts';

const NOTICES: Record<string, string> = {
  saved: 'Saved. New requests use the new configuration now; requests already running finish under the old one.',
  deleted: 'The route was deleted. New requests use the new configuration now.',
  'rolled-back': 'Rolled back. New requests use the restored configuration now.',
};

export async function showRoutes(ctx: RequestContext): Promise<void> {
  const session = await adminForPage(ctx);
  if (!session) return;
  const admin = ctx.runtime.admin;
  let routes: readonly RouteConfig[] = ctx.runtime.config.routes;
  let version: string | undefined;
  let fileProblem: string | undefined;
  if (admin) {
    try {
      const current = await admin.store.current();
      ({ version } = current);
      // What the file says, not what the environment made of it.
      routes = routesAsWritten(current.config.routes, current.text);
    } catch (error) {
      fileProblem = toGatewayError(error).message;
    }
  }
  const query = queryOf(ctx);
  const done = query.get('done') ?? '';
  sendPage(ctx, 200, 'admin-routes', {
    title: 'Routes',
    routes: routes.map(describeRoute),
    readOnly: !admin,
    version,
    fileProblem,
    notice: Object.hasOwn(NOTICES, done) ? `${NOTICES[done]}${query.get('version') ? ` (version ${query.get('version')})` : ''}` : undefined,
    ...formBasics(ctx, session, `${ADMIN_BASE}/`),
  });
}

/** GET: the form for route `name` (or a new one) on the current version; POST: reopen posted values. */
export async function routeForm(ctx: RequestContext): Promise<void> {
  if (ctx.req.method === 'POST') {
    const { admin, form } = await adminForm(ctx);
    const store = editableStore(ctx).store;
    const edited = readRouteForm(form);
    const base = edited.originalName ? rawRoute((await store.current()).text, edited.originalName) : undefined;
    return sendRouteForm(ctx, admin, { form: edited, baseVersion: form.get('baseVersion') ?? '', base, status: 200 });
  }
  const session = await adminForPage(ctx);
  if (!session) return;
  const current = await editableStore(ctx).store.current();
  const name = queryOf(ctx).get('name');
  const base = name ? rawRoute(current.text, name) : undefined;
  if (name && !base) throw new GatewayError('TG_ERR_NO_ROUTE', `There is no route "${name}".`);
  await sendRouteForm(ctx, session, { form: base ? formFromRoute(base) : EMPTY_FORM, baseVersion: current.version, base, status: 200 });
}

export interface FormState {
  form: RouteForm;
  baseVersion: string;
  base: Record<string, unknown> | undefined;
  status: number;
  problems?: PlacedProblems;
}

export async function sendRouteForm(ctx: RequestContext, session: Session, state: FormState): Promise<void> {
  const fleet = await fleetPolicies(ctx);
  const { form } = state;
  const byName = form.requirePolicies.some((v) => !/^\d+$/.test(v));
  const known = (value: string): boolean => fleet.policies?.some((p) => String(p.id) === value || p.name === value) ?? false;
  sendPage(ctx, state.status, 'admin-route-form', {
    title: form.originalName ? `Edit route ${form.originalName}` : 'New route',
    form,
    baseVersion: state.baseVersion,
    problems: state.problems ?? { byField: {}, general: [] },
    policies: fleet.policies?.map((p) => {
      // A box is ticked by the id or the name, whichever the config uses; new ticks follow the config's habit.
      const value = form.requirePolicies.includes(String(p.id)) ? String(p.id) : form.requirePolicies.includes(p.name) || byName ? p.name : String(p.id);
      return { id: p.id, name: p.name, critical: p.critical, passing: p.passingHostCount, failing: p.failingHostCount, value, checked: form.requirePolicies.includes(value) };
    }),
    fleetProblem: fleet.problem,
    policiesText: [...splitList(form.requirePoliciesText), ...form.requirePolicies.filter((v) => !known(v))].join('\n'),
    kept: keptKeys(state.base),
    ...formBasics(ctx, session, `${ADMIN_BASE}/routes/edit`),
  });
}

async function fleetPolicies(ctx: RequestContext): Promise<{ policies?: FleetPolicySummary[]; problem?: string }> {
  if (!ctx.runtime.fleet) return { problem: 'No Fleet server is configured, so policies cannot be listed: type their ids or exact names.' };
  try {
    return { policies: await ctx.runtime.fleet.listGlobalPolicies() };
  } catch (error) {
    return { problem: `Fleet's policy list is unavailable right now (${toGatewayError(error).message}): type policy ids or exact names instead.` };
  }
}

/** The route form read back, on the version it was based on, validated as a whole config. */
export interface CheckedRouteEdit {
  admin: Session;
  form: URLSearchParams;
  edited: RouteForm;
  baseVersion: string;
  current: Awaited<ReturnType<ReturnType<typeof editableStore>['store']['current']>>;
  plan: ReturnType<typeof planRouteEdit>;
  config: GatewayConfig;
}

/**
 * Shared by preview and save: a stale base version answers with the conflict page, problems answer with
 * the form (messages beside the fields, input kept); both return undefined, having answered.
 */
export async function checkedRouteEdit(ctx: RequestContext): Promise<CheckedRouteEdit | undefined> {
  const { admin, form } = await adminForm(ctx);
  const edited = readRouteForm(form);
  const baseVersion = form.get('baseVersion') ?? '';
  const current = await editableStore(ctx).store.current();
  if (current.version !== baseVersion) {
    await sendConflict(ctx, admin, baseVersion, edited);
    return undefined;
  }
  const base = edited.originalName ? rawRoute(current.text, edited.originalName) : undefined;
  // Typed values are never substituted: "${" is refused beside its field before anything is checked.
  const typed = envReferenceProblems(edited, base);
  if (Object.keys(typed.byField).length > 0 || typed.general.length > 0) {
    await sendRouteForm(ctx, admin, { form: edited, baseVersion, base, status: 400, problems: typed });
    return undefined;
  }
  const plan = planRouteEdit(current.text, edited);
  const added = newEnvReferences(current.text, plan.text);
  const checked = added.length > 0 ? { ok: false as const, problems: { byField: {}, general: added.map((path) => `${path}: ${ENV_REFERENCE_MESSAGE}`) } } : checkEdit(plan.text, plan.index, editableStore(ctx).store.env);
  if (!checked.ok) {
    await sendRouteForm(ctx, admin, { form: edited, baseVersion, base, status: 400, problems: checked.problems });
    return undefined;
  }
  return { admin, form, edited, baseVersion, current, plan, config: checked.config };
}

export async function previewRoute(ctx: RequestContext): Promise<void> {
  const checked = await checkedRouteEdit(ctx);
  if (!checked) return;
  const { admin, edited, baseVersion, current, plan } = checked;
  // The impact is worked out on what the file says (a ${NAME} stays that text), so no value from the
  // environment reaches the page.
  const route = routesAsWritten(checked.config.routes, plan.text)[plan.index] as RouteConfig;
  const fleet = route.device ? await fleetPolicies(ctx) : {};
  const entries = edited.originalName ? ctx.runtime.decisions.recent({ route: edited.originalName, verdict: 'allow', limit: 2000 }) : [];
  const impact = routeImpact(route, edited.originalName, entries, fleet.policies, ctx.runtime.now());
  sendPage(ctx, 200, 'admin-route-preview', {
    title: `Preview: ${route.name}`,
    routeName: route.name,
    isNew: edited.originalName === '',
    diff: textDiff(current.text, plan.text, { before: `version ${current.version}`, after: 'your edit' }),
    impact,
    fleetProblem: fleet.problem,
    fields: [...routeFormEntries(edited), ['baseVersion', baseVersion]],
    ...formBasics(ctx, admin, `${ADMIN_BASE}/routes/edit`),
  });
}
