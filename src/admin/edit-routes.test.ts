// Route edits touch only the edited route's changed lines: the rest of the file, including aligned
// comments and flow lists inside the route, stays byte for byte.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseDocument } from 'yaml';
import { diffLines } from 'diff';
import { applyRouteEdit } from './edit-routes.ts';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../config/example.yaml', import.meta.url)), 'utf8');

function changedLines(before: string, after: string): { added: string[]; removed: string[] } {
  const parts = diffLines(before, after);
  const lines = (kind: 'added' | 'removed') => parts.filter((p) => p[kind]).flatMap((p) => p.value.split('\n').filter((l) => l !== ''));
  return { added: lines('added'), removed: lines('removed') };
}

const routesOf = (text: string): Array<Record<string, unknown>> => (parseDocument(text).toJS() as { routes: Array<Record<string, unknown>> }).routes;

describe('applyRouteEdit on a hand-written file', () => {
  test('an update changes exactly the changed line, keeping its aligned comment', () => {
    const wiki = structuredClone(routesOf(EXAMPLE)[0] as Record<string, unknown>);
    wiki.allowedGroups = [...(wiki.allowedGroups as string[]), 'support-2'];
    const edited = applyRouteEdit(EXAMPLE, { kind: 'update', name: String(wiki.name), route: wiki });
    const { added, removed } = changedLines(EXAMPLE, edited);
    expect(removed).toEqual(['    allowedGroups: [engineering, support]     # any one of these groups…']);
    expect(added).toEqual(['    allowedGroups: [engineering, support, support-2] # any one of these groups…']);
    expect(routesOf(edited)[0]).toEqual(wiki);
  });

  test('a new route is appended after the last one; nothing else changes', () => {
    const edited = applyRouteEdit(EXAMPLE, { kind: 'create', route: { name: 'zz', host: 'zz.example.com', upstream: 'http://127.0.0.1:1', allowedGroups: ['sre'] } });
    expect(changedLines(EXAMPLE, edited).removed).toEqual([]);
    expect(changedLines(EXAMPLE, edited).added).toEqual(['  - name: zz', '    host: zz.example.com', '    upstream: http://127.0.0.1:1', '    allowedGroups:', '      - sre']);
    expect(routesOf(edited).at(-1)?.name).toBe('zz');
  });

  test('a deleted route takes only its own lines (and the comment right above it)', () => {
    const names = routesOf(EXAMPLE).map((r) => r.name);
    const victim = String(names[1]);
    const edited = applyRouteEdit(EXAMPLE, { kind: 'delete', name: victim });
    expect(changedLines(EXAMPLE, edited).added).toEqual([]);
    expect(routesOf(edited).map((r) => r.name)).toEqual(names.filter((n) => n !== victim));
  });

  test('comments after the edited route are written once', () => {
    const text = 'routes:\n  - name: a   # trailing\n    host: x\n    # inner comment at end\n  # second route\n  - name: b\n    host: y\n';
    const edited = applyRouteEdit(text, { kind: 'update', name: 'a', route: { name: 'a', host: 'z' } });
    expect(edited).toBe(text.replace('host: x', 'host: z'));
  });
});
