// Route edits on the config text itself (yaml's Document API): only the edited route's own lines are
// rewritten and spliced into the original text, so every other line (comments, flow lists, alignment)
// stays byte for byte, and the diff an admin previews is just their change.
import { isDeepStrictEqual } from 'node:util';
import { Document, parseDocument, isCollection, isMap, isNode, isScalar, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { GatewayError } from '../errors.ts';

export type RouteEdit =
  | { readonly kind: 'create'; readonly route: Record<string, unknown> }
  | { readonly kind: 'update'; readonly name: string; readonly route: Record<string, unknown> }
  | { readonly kind: 'delete'; readonly name: string };

const STYLE = { flowCollectionPadding: false, lineWidth: 0 } as const;

export function applyRouteEdit(text: string, edit: RouteEdit): string {
  const doc = parseDocument(text);
  const routes = doc.get('routes', true);
  if (!isSeq(routes)) throw new GatewayError('TG_ERR_CONFIG_INVALID', 'The configuration has no routes list.');
  const index = edit.kind === 'create' ? -1 : indexOfRoute(doc, edit.name);
  if (edit.kind !== 'create' && index === -1) throw new GatewayError('TG_ERR_NO_ROUTE', `There is no route "${edit.name}".`);
  const spliced = splice(text, doc, routes, edit, index);
  if (edit.kind === 'create') routes.add(doc.createNode(edit.route));
  else if (edit.kind === 'update') {
    const existing = routes.get(index, true);
    if (isMap(existing)) mergeMap(doc, existing, edit.route);
    else routes.set(index, doc.createNode(edit.route));
  } else routes.delete(index);
  // The spliced text is used only when it says exactly what the edited document says.
  if (spliced !== undefined && isDeepStrictEqual(parseDocument(spliced).toJS(), doc.toJS())) return spliced;
  return doc.toString(STYLE);
}

function indexOfRoute(doc: Document, name: string): number {
  const routes = doc.toJS().routes as Array<{ name?: unknown }> | undefined;
  return routes?.findIndex((route) => route.name === name) ?? -1;
}

/** The route as block YAML, every line after the first indented by `indent` (it follows "- "). */
function routeText(node: unknown, indent: number): string {
  const single = new Document(node);
  const lines = single.toString(STYLE).replace(/\n$/, '').split('\n');
  return lines.map((line, i) => (i === 0 || line === '' ? line : `${' '.repeat(indent)}${line}`)).join('\n');
}

/** The text edit for `edit`, made on a copy of the route nodes; undefined when the layout is unusual. */
function splice(text: string, doc: Document, routes: YAMLSeq, edit: RouteEdit, index: number): string | undefined {
  const anchor = routes.items[edit.kind === 'create' ? routes.items.length - 1 : index];
  if (routes.flow || !isMap(anchor) || !anchor.range) return undefined;
  const [start, end] = anchor.range;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const dash = text.slice(lineStart, start);
  if (!/^ *- +$/.test(dash) || !text.slice(start, end).endsWith('\n')) return undefined;
  if (edit.kind === 'delete') return text.slice(0, commentsAbove(text, lineStart, dash.indexOf('-'))) + text.slice(end);
  if (edit.kind === 'create') return `${text.slice(0, end)}${dash}${routeText(doc.createNode(edit.route), dash.length)}\n${text.slice(end)}`;
  const copy = anchor.clone() as YAMLMap;
  mergeMap(doc, copy, edit.route);
  // Comments after the route's last key stay in the text (they lie past `end`); do not write them twice.
  copy.comment = null;
  return `${text.slice(0, start)}${restoreLines(text.slice(start, end), routeText(copy, dash.length))}\n${text.slice(end)}`;
}

const normal = (line: string): string => line.replace(/\s+#/, ' #').trimEnd();

/**
 * yaml re-renders a route's untouched lines a little differently (aligned comments lose their padding, a
 * comment after "device:" moves to its own line); such lines get their original text back.
 */
function restoreLines(before: string, after: string): string {
  const original = new Map(before.split('\n').map((line) => [normal(line), line]));
  const lines = after.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const next = lines[i + 1];
    const joined = next !== undefined && /:$/.test(line) && /^\s*#/.test(next) ? original.get(normal(`${line} ${next.trim()}`)) : undefined;
    if (joined !== undefined) i++;
    out.push(joined ?? original.get(normal(line)) ?? line);
  }
  return out.join('\n');
}

/** Where the comment lines right above a deleted route (at its dash's indent) begin: they go with it. */
function commentsAbove(text: string, lineStart: number, column: number): number {
  let from = lineStart;
  while (from > 0) {
    const previous = text.lastIndexOf('\n', from - 2) + 1;
    const line = text.slice(previous, from - 1);
    if (!new RegExp(`^ {${column}}#`).test(line)) break;
    from = previous;
  }
  return from;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Makes `map` say `next` while touching only what differs: equal values keep their nodes (comments, flow
 * style such as `[a, b]`), nested maps are merged the same way, and a replaced list keeps its old style.
 */
function mergeMap(doc: Document, map: YAMLMap, next: Record<string, unknown>): void {
  for (const pair of [...map.items]) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    if (typeof key === 'string' && !Object.hasOwn(next, key)) map.delete(key);
  }
  for (const [key, value] of Object.entries(next)) {
    const current = map.get(key, true);
    if (isMap(current) && isPlainObject(value)) {
      mergeMap(doc, current, value);
      continue;
    }
    if (current !== undefined && isDeepStrictEqual(isNode(current) ? current.toJS(doc) : current, value)) continue;
    const node = doc.createNode(value);
    if (isNode(current)) {
      if (isCollection(current) && isCollection(node)) node.flow = current.flow;
      node.comment = current.comment;
      node.commentBefore = current.commentBefore;
    }
    map.set(key, node);
  }
}
