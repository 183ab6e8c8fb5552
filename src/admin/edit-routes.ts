// Route edits on the config text itself: yaml's Document API finds the route (its source range) and
// renders its new lines; only that route's own content lines are replaced, so every other line of the
// file (comments beside and between routes, flow maps, alignment) stays byte for byte, and the diff an
// admin previews is just their change. An edit that cannot be made that way is refused, never rewritten.
import { isDeepStrictEqual } from 'node:util';
import { Document, parseDocument, isMap, isSeq, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { GatewayError } from '../errors.ts';
import { dropTrailingComments, mergeMap } from './merge-yaml-map.ts';

export type RouteEdit =
  | { readonly kind: 'create'; readonly route: Record<string, unknown> }
  | { readonly kind: 'update'; readonly name: string; readonly route: Record<string, unknown> }
  | { readonly kind: 'delete'; readonly name: string };

const STYLE = { flowCollectionPadding: false, lineWidth: 0 } as const;

/** Where a block route sits: the line holding its first key and the end of its last content line. */
interface RouteSpan {
  /** Start of the line that holds the route's first key. */
  readonly first: number;
  /** That line's text before the key: "  - " or, after a commented dash line, "    ". */
  readonly prefix: string;
  /** Start of the route's dash line ("  - …"). */
  readonly dashLine: number;
  readonly dashColumn: number;
  /** Just after the newline of the route's last line that is not blank or a comment. */
  readonly end: number;
}

export function applyRouteEdit(text: string, edit: RouteEdit): string {
  // Work on text that ends in a newline; give the file back its missing one at the end.
  const missingNewline = text !== '' && !text.endsWith('\n');
  const source = missingNewline ? `${text}\n` : text;
  const doc = parseDocument(source);
  const routes = doc.get('routes', true);
  if (!isSeq(routes)) throw new GatewayError('TG_ERR_CONFIG_INVALID', 'The configuration has no routes list.');
  const index = edit.kind === 'create' ? -1 : indexOfRoute(doc, edit.name);
  if (edit.kind !== 'create' && index === -1) throw new GatewayError('TG_ERR_NO_ROUTE', `There is no route "${edit.name}".`);
  const spliced = splice(source, doc, routes, edit, index);
  applyToDocument(doc, routes, edit, index);
  // The new text must say exactly what the edited document says, or the edit is not made.
  if (spliced === undefined || !isDeepStrictEqual(parseDocument(spliced).toJS(), doc.toJS())) throw notInPlace();
  return missingNewline && spliced.endsWith('\n') ? spliced.slice(0, -1) : spliced;
}

function notInPlace(): GatewayError {
  return new GatewayError('TG_ERR_CONFIG_INVALID', 'This route is laid out in a way the console cannot edit without rewriting other lines; edit the file by hand.');
}

function indexOfRoute(doc: Document, name: string): number {
  const routes = (doc.toJS() as { routes?: Array<{ name?: unknown }> } | null)?.routes;
  return routes?.findIndex((route) => route.name === name) ?? -1;
}

/** The same edit on the document: what the spliced text must parse to. */
function applyToDocument(doc: Document, routes: YAMLSeq, edit: RouteEdit, index: number): void {
  if (edit.kind === 'create') routes.add(doc.createNode(edit.route));
  else if (edit.kind === 'delete') routes.delete(index);
  else {
    const existing = routes.get(index, true);
    if (isMap(existing)) mergeMap(doc, existing, edit.route);
    else routes.set(index, doc.createNode(edit.route));
  }
}

/** The new file text, made from the original text and the re-rendered route; undefined when the layout is unusual. */
function splice(text: string, doc: Document, routes: YAMLSeq, edit: RouteEdit, index: number): string | undefined {
  if (routes.flow) return edit.kind === 'create' && routes.items.length === 0 ? intoEmptyList(text, doc, routes, edit.route) : undefined;
  const anchor: unknown = routes.items[edit.kind === 'create' ? routes.items.length - 1 : index];
  const span = spanOf(text, anchor);
  if (span === undefined || !isMap(anchor)) return undefined;
  if (edit.kind === 'delete') {
    // The last route gone, the list stays a list: an empty flow list where the routes were.
    const rest = routes.items.length === 1 ? `${' '.repeat(span.dashColumn)}[]\n` : '';
    return text.slice(0, commentsAbove(text, span.dashLine, span.dashColumn)) + rest + text.slice(span.end);
  }
  if (edit.kind === 'create') {
    const at = ownCommentsEnd(text, span.end, span.dashColumn);
    const dash = `${' '.repeat(span.dashColumn)}- `;
    return `${text.slice(0, at)}${dash}${routeText(doc.createNode(edit.route), dash.length)}\n${text.slice(at)}`;
  }
  const copy = anchor.clone() as YAMLMap;
  // Comments above the first key and after the last value lie outside the replaced lines: not written twice.
  copy.commentBefore = null;
  dropTrailingComments(copy);
  mergeMap(doc, copy, edit.route);
  const before = text.slice(span.first + span.prefix.length, span.end - 1);
  return `${text.slice(0, span.first)}${span.prefix}${restoreLines(before, routeText(copy, span.prefix.length))}\n${text.slice(span.end)}`;
}

/** The first route into `routes: []`: the `[]` becomes a block list. */
function intoEmptyList(text: string, doc: Document, routes: YAMLSeq, route: Record<string, unknown>): string | undefined {
  if (!routes.range) return undefined;
  const [start, end] = routes.range;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const ownLine = /^ *$/.test(text.slice(lineStart, start));
  const column = ownLine ? start - lineStart : 2;
  const head = ownLine ? text.slice(0, start) : `${text.slice(0, start).trimEnd()}\n${' '.repeat(column)}`;
  return `${head}- ${routeText(doc.createNode(route), column + 2)}${text.slice(end)}`;
}

function spanOf(text: string, node: unknown): RouteSpan | undefined {
  if (!isMap(node) || node.flow || !node.range) return undefined;
  const [start, valueEnd] = node.range;
  const first = text.lastIndexOf('\n', start - 1) + 1;
  const prefix = text.slice(first, start);
  if (!/^ *(- +)?$/.test(prefix)) return undefined;
  const dashLine = prefix.includes('-') ? first : dashLineAbove(text, first);
  if (dashLine === undefined) return undefined;
  const dashColumn = text.slice(dashLine).search(/-/);
  return { first, prefix, dashLine, dashColumn, end: contentEnd(text, start, valueEnd) };
}

/** For "- # comment" followed by the route's keys: the dash line right above. */
function dashLineAbove(text: string, lineStart: number): number | undefined {
  if (lineStart === 0) return undefined;
  const previous = text.lastIndexOf('\n', lineStart - 2) + 1;
  return /^ *-( +#.*)?$/.test(text.slice(previous, lineStart - 1)) ? previous : undefined;
}

const isBlankOrComment = (line: string): boolean => /^\s*(#.*)?$/.test(line);

function contentEnd(text: string, start: number, valueEnd: number): number {
  let end = text.indexOf('\n', start) + 1;
  for (let at = end; at > 0 && at < valueEnd; ) {
    const next = text.indexOf('\n', at) + 1;
    if (next === 0) break;
    // The range may end inside the next line (the indent before the next route's dash).
    if (!isBlankOrComment(text.slice(at, Math.min(next - 1, valueEnd)))) end = next;
    at = next;
  }
  return end;
}

/** Past the comment lines indented deeper than the dash right after `end`: they belong to that route. */
function ownCommentsEnd(text: string, end: number, dashColumn: number): number {
  let at = end;
  for (;;) {
    const next = text.indexOf('\n', at) + 1;
    if (next === 0 || !new RegExp(`^ {${dashColumn + 1},}#`).test(text.slice(at, next - 1))) return at;
    at = next;
  }
}

/** The route as block YAML, every line after the first indented by `indent` (it follows "- "). */
function routeText(node: Node, indent: number): string {
  let rendered: string;
  try {
    rendered = new Document(node).toString(STYLE);
  } catch {
    // e.g. an alias whose anchor lies outside the route.
    throw notInPlace();
  }
  const lines = rendered.replace(/\n$/, '').split('\n');
  return lines.map((line, i) => (i === 0 || line === '' ? line : `${' '.repeat(indent)}${line}`)).join('\n');
}

// Lines compared the way yaml re-renders them: one space before a comment, no padding inside `{ }` / `[ ]`.
const normal = (line: string): string =>
  line.replace(/\s+#/, ' #').replace(/([[{])\s+/g, '$1').replace(/\s+([\]}])/g, '$1').trimEnd();

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
