// Route edits touch only the edited route's changed lines: the rest of the file, including aligned
// comments, comments beside routes and flow maps, stays byte for byte — or the edit is refused.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseDocument } from 'yaml';
import { diffLines } from 'diff';
import { applyRouteEdit, type RouteEdit } from './edit-routes.ts';
import { isGatewayError } from '../errors.ts';

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

// Each case: a file, an edit, and the one line change it must make (`from` → `to`); every other byte of
// the file (comments next to routes, `{ a: 1 }` flow maps elsewhere) must come back unchanged.
interface InPlaceCase {
  readonly label: string;
  readonly text: string;
  readonly edit: RouteEdit;
  readonly from: string;
  readonly to: string;
}

const FLOW = 'server: { a: 1 }\n';
const IN_PLACE: InPlaceCase[] = [
  {
    label: 'a comment on the dash line of the edited route',
    text: `${FLOW}routes:\n  - # the a route\n    name: a\n    host: x\n  - name: b\n    host: y\n`,
    edit: { kind: 'update', name: 'a', route: { name: 'a', host: 'z' } },
    from: '    host: x\n',
    to: '    host: z\n',
  },
  {
    label: 'a file without a final newline',
    text: `${FLOW}routes:\n  - name: a\n    host: x`,
    edit: { kind: 'update', name: 'a', route: { name: 'a', host: 'z' } },
    from: 'host: x',
    to: 'host: z',
  },
  {
    label: 'a comment above the edited route, after the previous route\'s own comment',
    text: `${FLOW}routes:\n  - name: a\n    host: x\n    # end of a\n  # about b\n  - name: b\n    host: y`,
    edit: { kind: 'update', name: 'b', route: { name: 'b', host: 'z' } },
    from: 'host: y',
    to: 'host: z',
  },
  {
    label: 'comments after the edited route\'s nested last value and above the next route',
    text: `routes:\n  - name: a\n    device:\n      source: fleet # s\n      # more device rules later\n  # about b\n  - name: b\n    device: { source: fleet }\n`,
    edit: { kind: 'update', name: 'a', route: { name: 'a', device: { source: 'none' } } },
    from: '      source: fleet # s\n',
    to: '      source: none # s\n',
  },
  {
    label: 'an untouched flow map inside the edited route',
    text: `${FLOW}routes:\n  - name: a\n    host: x\n    device: { source: fleet }\n`,
    edit: { kind: 'update', name: 'a', route: { name: 'a', host: 'z', device: { source: 'fleet' } } },
    from: '    host: x\n',
    to: '    host: z\n',
  },
  {
    label: 'a new route after a last route with a comment on its dash line',
    text: `${FLOW}routes:\n  - # b\n    name: b\n    host: y\nafter: { a: 1 }\n`,
    edit: { kind: 'create', route: { name: 'c', host: 'z' } },
    from: '    host: y\n',
    to: '    host: y\n  - name: c\n    host: z\n',
  },
  {
    label: 'deleting the only route leaves an empty list',
    text: `${FLOW}routes:\n  # the a route\n  - name: a\n    host: x\nafter: { a: 1 }\n`,
    edit: { kind: 'delete', name: 'a' },
    from: '  # the a route\n  - name: a\n    host: x\n',
    to: '  []\n',
  },
];

describe('applyRouteEdit leaves every line outside the edited route byte for byte', () => {
  test.each(IN_PLACE)('$label', ({ text, edit, from, to }) => {
    expect(text.split(from)).toHaveLength(2);
    const edited = applyRouteEdit(text, edit);
    expect(edited).toBe(text.replace(from, to));
    const comments = (value: string) => value.match(/#.*/g) ?? [];
    expect(comments(edited)).toEqual(comments(text.replace(from, to)));
  });

  test('an edit that would rewrite other lines is refused, not made', () => {
    const text = 'base: &b { a: 1 }\nroutes:\n  - name: a\n    headers: *b\n    host: x\n';
    const refused = (() => {
      try {
        return applyRouteEdit(text, { kind: 'update', name: 'a', route: { name: 'a', headers: { a: 1 }, host: 'z' } });
      } catch (error) {
        return error;
      }
    })();
    expect(isGatewayError(refused) && refused.code).toBe('TG_ERR_CONFIG_INVALID');
  });

  test('the first route into an empty flow list', () => {
    const text = 'routes: [] # none yet\nafter: { a: 1 }\n';
    expect(applyRouteEdit(text, { kind: 'create', route: { name: 'a', host: 'x' } })).toBe('routes:\n  - name: a\n    host: x # none yet\nafter: { a: 1 }\n');
  });
});
