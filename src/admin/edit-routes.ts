// Route edits on the config text itself (yaml's Document API), so the comments and formatting of
// everything the admin did not touch survive a save.
import { parseDocument, isSeq, type Document } from 'yaml';
import { GatewayError } from '../errors.ts';

export type RouteEdit =
  | { readonly kind: 'create'; readonly route: Record<string, unknown> }
  | { readonly kind: 'update'; readonly name: string; readonly route: Record<string, unknown> }
  | { readonly kind: 'delete'; readonly name: string };

export function applyRouteEdit(text: string, edit: RouteEdit): string {
  const doc = parseDocument(text);
  const routes = doc.get('routes');
  if (!isSeq(routes)) throw new GatewayError('TG_ERR_CONFIG_INVALID', 'The configuration has no routes list.');
  const index = edit.kind === 'create' ? -1 : indexOfRoute(doc, edit.name);
  if (edit.kind !== 'create' && index === -1) throw new GatewayError('TG_ERR_NO_ROUTE', `There is no route "${edit.name}".`);
  if (edit.kind === 'create') routes.add(doc.createNode(edit.route));
  else if (edit.kind === 'update') routes.set(index, doc.createNode(edit.route));
  else routes.delete(index);
  return doc.toString();
}

function indexOfRoute(doc: Document, name: string): number {
  const routes = doc.toJS().routes as Array<{ name?: unknown }> | undefined;
  return routes?.findIndex((route) => route.name === name) ?? -1;
}
