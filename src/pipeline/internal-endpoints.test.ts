// Unit tests of the one endpoint table: names two features claim are refused, the console's entries are
// all "admin…" (so admin-host.ts serves them only on admin.host), and the layout rule holds that the
// pipeline and http/ import no feature's endpoints.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../errors.ts';
import { consoleOnly } from '../http/admin-host.ts';
import { combineEndpoints, isInternalPath, type Endpoints } from './internal-endpoints.ts';

const noop: Endpoints[string] = { methods: ['GET'], handle: () => {} };
const SRC = path.resolve(import.meta.dirname, '..');

describe('combineEndpoints', () => {
  test('joins every table', () => {
    const combined = combineEndpoints({ a: noop }, { b: noop, c: noop });
    expect(Object.keys(combined).sort()).toEqual(['a', 'b', 'c']);
    expect(Object.isFrozen(combined)).toBe(true);
  });

  test('refuses a name two features mount', () => {
    expect(() => combineEndpoints({ login: noop }, { logout: noop }, { login: noop })).toThrow(GatewayError);
    expect(() => combineEndpoints({ login: noop }, { login: noop })).toThrow(/"login"/);
  });
});

describe('consoleOnly', () => {
  test.each(['admin', 'admin/grants', 'Admin/x'])('accepts %s', (name) => {
    expect(() => consoleOnly({ [name]: noop })).not.toThrow();
  });

  test.each(['grants', 'login', 'x/admin', ''])('refuses %j, which route hosts would serve', (name) => {
    expect(() => consoleOnly({ admin: noop, [name]: noop })).toThrow(GatewayError);
  });
});

test.each([
  ['/.trustgate', true],
  ['/.trustgate/', true],
  ['/.trustgate/admin', true],
  ['/.trustgatex', false],
  ['/app/.trustgate/login', false],
  ['/', false],
])('isInternalPath(%s) is %s', (given, expected) => {
  expect(isInternalPath(given)).toBe(expected);
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\b[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] ?? '').filter((spec) => spec.startsWith('.')).map((spec) => path.resolve(path.dirname(file), spec));
}

/** Modules that export a table of endpoints: only the composition root may import them. */
const endpointModules = sourceFiles(SRC).filter((file) => /^export const \w+: Endpoints\b/m.test(readFileSync(file, 'utf8')));

test('every feature exports its endpoints (the layout the gateway mounts)', () => {
  expect(endpointModules.map((file) => path.relative(SRC, file)).sort()).toEqual([
    'admin/admin-endpoints.ts',
    'break-glass/break-glass-forms.ts',
    'gateway-endpoints.ts',
    'pipeline/act/device-forms.ts',
    'pipeline/identify-user/sign-in-endpoints.ts',
  ]);
});

test.each(['pipeline', 'http', 'config'])('nothing in %s/ imports an endpoint table', (folder) => {
  const offenders = sourceFiles(path.join(SRC, folder)).flatMap((file) =>
    importsOf(file)
      .filter((target) => endpointModules.includes(target))
      .map((target) => `${path.relative(SRC, file)} → ${path.relative(SRC, target)}`),
  );
  expect(offenders).toEqual([]);
});

test('http/ imports no feature folder', () => {
  const features = ['admin', 'break-glass', 'sessions', 'dev'].map((folder) => path.join(SRC, folder) + path.sep);
  const offenders = sourceFiles(path.join(SRC, 'http')).flatMap((file) =>
    importsOf(file)
      .filter((target) => features.some((folder) => target.startsWith(folder)))
      .map((target) => `${path.relative(SRC, file)} → ${path.relative(SRC, target)}`),
  );
  expect(offenders).toEqual([]);
});
