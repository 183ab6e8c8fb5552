// Unit tests of ${NAME} / ${NAME:-default} substitution on parsed config values: only strings change, a
// value can never add structure, every missing variable is reported with its path, route names stay
// literal, and redaction puts ${NAME} back wherever an expanded value would show.
import { describe, expect, test } from 'vitest';
import type { ConfigProblem } from './config-problem.ts';
import { redactExpansions, substituteEnv, type Expansion } from './substitute-env.ts';

function substitute(value: unknown, env: Record<string, string | undefined>) {
  const problems: ConfigProblem[] = [];
  const expansions: Expansion[] = [];
  return { value: substituteEnv(value, env, problems, expansions), problems, expansions };
}

describe('substituteEnv', () => {
  test.each<[string, Record<string, string | undefined>, string]>([
    ['${A}', { A: 'one' }, 'one'],
    ['pre-${A}-post', { A: 'one' }, 'pre-one-post'],
    ['${A}${B}', { A: 'one', B: 'two' }, 'onetwo'],
    ['${A:-fallback}', {}, 'fallback'],
    ['${A:-fallback}', { A: '' }, 'fallback'],
    ['${A:-fallback}', { A: 'set' }, 'set'],
    ['${A:-}', {}, ''],
    ['${A:-http://x:1/p}', {}, 'http://x:1/p'],
    ['$A and {A} and $${A}', { A: 'v' }, '$A and {A} and $v'],
    ['${1A} ${A-B} ${ A }', { A: 'v' }, '${1A} ${A-B} ${ A }'],
    ['${A}', { A: '${B}', B: 'nested' }, '${B}'],
  ])('%j with %j → %j', (text, env, expected) => {
    const { value, problems } = substitute(text, env);
    expect(value).toBe(expected);
    expect(problems).toEqual([]);
  });

  test('every missing variable is reported with its path, and becomes empty', () => {
    const { value, problems } = substitute({ oidc: { clientSecret: '${SECRET}' }, routes: [{ allowedGroups: ['x', '${GROUP}'] }], other: '${A}${B}' }, {});
    expect(value).toEqual({ oidc: { clientSecret: '' }, routes: [{ allowedGroups: ['x', ''] }], other: '' });
    expect(problems).toEqual([
      { path: 'oidc.clientSecret', message: 'environment variable SECRET is not set' },
      { path: 'routes[0].allowedGroups[1]', message: 'environment variable GROUP is not set' },
      { path: 'other', message: 'environment variable A is not set' },
      { path: 'other', message: 'environment variable B is not set' },
    ]);
  });

  test('a set but empty variable without a default is missing', () => {
    expect(substitute('${A}', { A: '' }).problems).toEqual([{ path: '', message: 'environment variable A is not set' }]);
  });

  test('only strings change: numbers, booleans, null and keys stay as written, and a value adds no structure', () => {
    const env = { A: 'a: [1, 2]\nb: {c: 3}', KEY: 'renamed' };
    const { value } = substitute({ n: 1, t: true, z: null, '${KEY}': '${A}', list: [2, '${A}'] }, env);
    expect(value).toEqual({ n: 1, t: true, z: null, '${KEY}': env.A, list: [2, env.A] });
  });

  test.each([['routes[0].name'], ['routes[3].breakGlass.group']])('%s must be written literally', (path) => {
    const [, index, rest] = /^routes\[(\d+)\]\.(.*)$/.exec(path) ?? [];
    const route: Record<string, unknown> = rest === 'name' ? { name: 'app-${ENV}' } : { breakGlass: { group: 'g-${ENV}' } };
    const routes = Array.from({ length: Number(index) + 1 }, (_, i) => (i === Number(index) ? route : {}));
    const { value, problems } = substitute({ routes }, { ENV: 'prod' });
    expect(problems).toEqual([{ path, message: 'write this name literally: ${…} is not substituted here' }]);
    expect(JSON.stringify(value)).not.toContain('prod');
  });

  test('a literal route name, and ${ in other route fields, are fine', () => {
    const { value, problems } = substitute({ routes: [{ name: 'app', upstream: '${UP}' }] }, { UP: 'http://10.0.0.1' });
    expect(problems).toEqual([]);
    expect(value).toEqual({ routes: [{ name: 'app', upstream: 'http://10.0.0.1' }] });
  });

  test('records each substitution made (not defaults, not missing ones)', () => {
    const { expansions } = substitute(['${A}', '${B:-d}', '${C}', '${A}'], { A: 'alpha' });
    expect(expansions).toEqual([{ name: 'A', value: 'alpha' }, { name: 'A', value: 'alpha' }]);
  });
});

describe('redactExpansions', () => {
  test('every expanded value is put back as ${NAME}, the longest first', () => {
    const expansions = [{ name: 'SHORT', value: 'secret' }, { name: 'LONG', value: 'secret-and-more' }];
    expect(redactExpansions('bad value "secret-and-more" near secret', expansions)).toBe('bad value "${LONG}" near ${SHORT}');
  });

  test('values under three characters are left alone (they would redact everything)', () => {
    expect(redactExpansions('a port of 80 in 8080', [{ name: 'PORT', value: '80' }])).toBe('a port of 80 in 8080');
  });
});
