// A guard on the layout: src/ has no import cycles (runtime and type-only imports alike) but the one
// known type-level ring around pipeline/request-context.ts, config/ and errors.ts import nothing above
// them ("imports point down": features → pipeline → http primitives → config → errors), and no module
// re-exports another's names (no barrels). Imports are read with TypeScript's own pre-processor.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const SRC = resolve(import.meta.dirname);

/**
 * The type-level ring around the request context, left for the stage redesign (stages taking explicit
 * inputs and returning values). A cycle is only tolerated when every module in it is listed here.
 */
const KNOWN_RING: ReadonlySet<string> = new Set([
  'pipeline/request-context.ts',
  'pipeline/act/create-forwarder.ts',
  'pipeline/decide/decide.ts',
  'pipeline/gather-posture/gather-posture.ts',
  'pipeline/gather-posture/gather-trust.ts',
  'pipeline/identify-device/identify-device.ts',
  'pipeline/identify-user/identify-user.ts',
]);

type Graph = ReadonlyMap<string, readonly string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every module of src/ (tests left out) → the src/ modules it imports, `import type` and `import()` included. */
function importGraph(): Graph {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const local = importedFiles.map((f) => f.fileName).filter((name) => name.startsWith('.'));
    graph.set(relative(SRC, file), local.map((name) => relative(SRC, resolve(dirname(file), name))));
  }
  return graph;
}

/** The strongly connected components with more than one module (or a module importing itself): the cycles. */
function findCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) visit(next);
      if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.includes(node)) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

describe('findCycles', () => {
  test.each([
    ['none', { a: ['b'], b: ['c'], c: [] }, []],
    ['two modules', { a: ['b'], b: ['a'], c: ['a'] }, [['a', 'b']]],
    ['a ring of three', { a: ['b'], b: ['c'], c: ['a'] }, [['a', 'b', 'c']]],
    ['a self-import', { a: ['a'] }, [['a']]],
    ['two separate', { a: ['b'], b: ['a'], c: ['d'], d: ['c'] }, [['a', 'b'], ['c', 'd']]],
  ])('%s', (_, edges, expected) => {
    const found = findCycles(new Map(Object.entries(edges)));
    expect(found.sort((x, y) => (x[0] ?? '').localeCompare(y[0] ?? ''))).toEqual(expected);
  });
});

describe('src/ import graph', () => {
  const graph = importGraph();

  test('reads the real tree', () => {
    expect(graph.get('config/load-config.ts')).toContain('config/schema.ts');
    expect(graph.get('pipeline/request-context.ts')?.length).toBeGreaterThan(0);
  });

  test('has no import cycle outside the known request-context ring', () => {
    const unexpected = findCycles(graph).filter((cycle) => !cycle.every((m) => KNOWN_RING.has(m)));
    expect(unexpected).toEqual([]);
  });

  test.each([
    ['config/', (m: string) => m.startsWith('config/') || m === 'errors.ts'],
    ['errors.ts', () => false],
  ])('%s imports nothing above it', (layer, allowed) => {
    const upward = [...graph]
      .filter(([module]) => module.startsWith(layer))
      .flatMap(([module, imports]) => imports.filter((target) => !allowed(target)).map((target) => `${module} → ${target}`));
    expect(upward).toEqual([]);
  });

  test('no module re-exports another module (no barrels)', () => {
    const reexport = /^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*from\s/m;
    const barrels = [...graph.keys()].filter((module) => reexport.test(readFileSync(join(SRC, module), 'utf8')));
    expect(barrels).toEqual([]);
  });
});
