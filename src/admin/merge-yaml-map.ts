// Makes a yaml map node say a new plain value while keeping every node whose value did not change
// (comments, flow style), so re-rendering it changes only the lines that really changed.
import { isDeepStrictEqual } from 'node:util';
import { isCollection, isMap, isNode, isScalar, type Document, type YAMLMap } from 'yaml';

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Makes `map` say `next` while touching only what differs: equal values keep their nodes (comments, flow
 * style such as `[a, b]`), nested maps are merged the same way, and a replaced list keeps its old style.
 */
export function mergeMap(doc: Document, map: YAMLMap, next: Record<string, unknown>): void {
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

/**
 * Drops the comments that trail a collection's last entry (on it and down its last collection values): in the
 * file they sit after the node's last content line, outside the lines an edit rewrites, and stay there.
 */
export function dropTrailingComments(node: unknown): void {
  let current = node;
  // A scalar's comment is the one on its own line (`source: fleet # why`), inside the edited lines: kept.
  while (isCollection(current)) {
    current.comment = null;
    const last: unknown = current.items.at(-1);
    current = isMap(current) ? (last as { value?: unknown } | undefined)?.value : last;
  }
}
