// Turns an admin's route form into the next config text and checks it with the gateway's own loader, so
// the preview and the save judge exactly the same text; also names the routes a change touched (for logs).
import { parseDocument } from 'yaml';
import { GatewayError, isGatewayError } from '../errors.ts';
import { parseConfigText } from '../config/load-config.ts';
import type { ConfigProblem } from '../config/config-problem.ts';
import type { Env } from '../config/substitute-env.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { applyRouteEdit } from './edit-routes.ts';
import { rawRoute, routeFromForm, type RouteForm } from './route-form.ts';
import { placeProblems, type PlacedProblems } from './problem-fields.ts';

export interface PlannedEdit {
  readonly text: string;
  /** Where the edited route sits in the new text's routes list (for placing problems). */
  readonly index: number;
}

function routeNames(text: string): unknown[] {
  const routes = (parseDocument(text).toJS() as { routes?: Array<{ name?: unknown }> } | null)?.routes;
  return routes?.map((r) => r.name) ?? [];
}

export function planRouteEdit(text: string, form: RouteForm): PlannedEdit {
  if (form.originalName === '') {
    const route = routeFromForm(form, undefined);
    return { text: applyRouteEdit(text, { kind: 'create', route }), index: routeNames(text).length };
  }
  const base = rawRoute(text, form.originalName);
  if (!base) throw new GatewayError('TG_ERR_NO_ROUTE', `There is no route "${form.originalName}" any more.`);
  const route = routeFromForm(form, base);
  return { text: applyRouteEdit(text, { kind: 'update', name: form.originalName, route }), index: routeNames(text).indexOf(form.originalName) };
}

export type Checked = { readonly ok: true; readonly config: GatewayConfig } | { readonly ok: false; readonly problems: PlacedProblems };

/** Validates with the same loader the gateway starts with; problems come back placed beside form fields. */
export function checkEdit(text: string, index: number, env: Env): Checked {
  try {
    return { ok: true, config: parseConfigText(text, 'the edited configuration', env) };
  } catch (error) {
    if (!isGatewayError(error) || error.code !== 'TG_ERR_CONFIG_INVALID') throw error;
    return { ok: false, problems: placeProblems(problemsOf(error), index) };
  }
}

export function problemsOf(error: GatewayError): ConfigProblem[] {
  const problems = (error.details as { problems?: ConfigProblem[] } | undefined)?.problems;
  return problems ?? [{ path: '(file)', message: error.message }];
}

/** Names of routes added, removed or changed between two configs. */
export function changedRoutes(before: GatewayConfig, after: GatewayConfig): string[] {
  const old = new Map(before.routes.map((r) => [r.name, JSON.stringify(r)]));
  const now = new Map(after.routes.map((r) => [r.name, JSON.stringify(r)]));
  const names = new Set([...old.keys(), ...now.keys()]);
  return [...names].filter((name) => old.get(name) !== now.get(name));
}
