// The secret-strength rule, table-driven over every kind of weak secret and every secret-bearing key, and
// the loopback exemption; through the real loader, so a weak secret is refused the way users see it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { isGatewayError } from '../errors.ts';
import { isLoopbackAddress, PUBLISHED_SECRETS, SECRET_KEY_NAME, secretWeaknesses } from './check-secrets.ts';
import { parseConfigText } from './load-config.ts';
import type { ConfigProblem } from './config-problem.ts';
import type { Env } from './substitute-env.ts';
import { configSchema } from './schema.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STRONG = 'q7Vx2mKp9LzR4tWb8nYc3HfJ6dGs1EaU5kXo0iQv';
const STRONG_2 = 'Zt3rPq8Lm1Nx6Vb9Cw2Ks5Hd7Jf4Gy0Ra8Ue3Io6';

function problemsOf(raw: Record<string, unknown>, env: Env = {}): ConfigProblem[] {
  try {
    parseConfigText(stringify(raw), 'test.yaml', env);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    return error.details?.problems as ConfigProblem[];
  }
  return [];
}

/** A public (non-loopback) config with a strong value at every secret-bearing key. */
function publicConfig(): Record<string, unknown> {
  return {
    listeners: [{ address: '0.0.0.0', port: 8080 }],
    oidc: { issuer: 'https://idp.example.com', clientId: 'trustgate', clientSecret: STRONG },
    session: { secrets: [STRONG, STRONG_2], revocation: { kind: 'redis', url: `rediss://:${STRONG}@redis.internal:6380` } },
    fleet: { url: 'https://fleet.example.com', apiToken: STRONG },
    trust: {
      source: { kind: 'elasticsearch', node: 'https://es.example.com:9200', apiKey: STRONG, username: 'trustgate', password: STRONG },
      learnedStore: { kind: 'redis', url: `redis://:${STRONG}@redis.internal:6379` },
    },
    breakGlass: {
      store: { kind: 'redis', url: `redis://trustgate:${STRONG_2}@redis.internal:6379` },
      audit: { elasticsearch: { node: 'https://es.example.com:9200', apiKey: STRONG } },
    },
    routes: [{ name: 'app', host: 'app.example.com', upstream: 'http://10.0.0.5:8080', allowedGroups: ['engineering'] }],
  };
}

/** Every secret-bearing key: where it is, and how to put a value there. */
const SECRET_KEYS: Array<[string, (raw: Record<string, unknown>, value: string) => void]> = [
  ['session.secrets[0]', (r, v) => ((r.session as { secrets: string[] }).secrets[0] = v)],
  ['session.secrets[1]', (r, v) => ((r.session as { secrets: string[] }).secrets[1] = v)],
  ['oidc.clientSecret', (r, v) => ((r.oidc as Record<string, unknown>).clientSecret = v)],
  ['fleet.apiToken', (r, v) => ((r.fleet as Record<string, unknown>).apiToken = v)],
  ['trust.source.apiKey', (r, v) => (((r.trust as Record<string, Record<string, unknown>>).source as Record<string, unknown>).apiKey = v)],
  ['trust.source.password', (r, v) => (((r.trust as Record<string, Record<string, unknown>>).source as Record<string, unknown>).password = v)],
  ['breakGlass.audit.elasticsearch.apiKey', (r, v) => ((((r.breakGlass as Record<string, Record<string, unknown>>).audit as Record<string, Record<string, unknown>>).elasticsearch as Record<string, unknown>).apiKey = v)],
  ['trust.learnedStore.url', (r, v) => (((r.trust as Record<string, Record<string, unknown>>).learnedStore as Record<string, unknown>).url = `redis://:${encodeURIComponent(v)}@redis.internal:6379`)],
  ['breakGlass.store.url', (r, v) => (((r.breakGlass as Record<string, Record<string, unknown>>).store as Record<string, unknown>).url = `redis://u:${encodeURIComponent(v)}@redis.internal:6379`)],
  ['session.revocation.url', (r, v) => (((r.session as Record<string, Record<string, unknown>>).revocation as Record<string, unknown>).url = `rediss://:${encodeURIComponent(v)}@redis.internal:6380`)],
];

interface ZodNode {
  _zod: { def: { type: string; shape?: Record<string, ZodNode>; innerType?: ZodNode; element?: ZodNode; options?: ZodNode[]; in?: ZodNode; out?: ZodNode } };
}

/** Every string-valued key the schema accepts, as a path (array items as [0]) with the key's own name. */
function schemaStringPaths(node: ZodNode, path = '', key = ''): Array<{ path: string; key: string }> {
  const def = node._zod.def;
  const field = (name: string) => (path === '' ? name : `${path}.${name}`);
  switch (def.type) {
    case 'string':
      return [{ path, key }];
    case 'object':
      return Object.entries((node as unknown as { shape: Record<string, ZodNode> }).shape).flatMap(([name, child]) => schemaStringPaths(child, field(name), name));
    case 'default':
    case 'optional':
      return schemaStringPaths(def.innerType as ZodNode, path, key);
    case 'pipe':
      return schemaStringPaths(def.in as ZodNode, path, key);
    case 'array':
      return schemaStringPaths(def.element as ZodNode, `${path}[0]`, key);
    case 'union':
      return (def.options ?? []).flatMap((option) => schemaStringPaths(option, path, key));
    default:
      return [];
  }
}

/** Puts `value` at a path such as `routes[0].opa.url`, creating what is missing on the way. */
function setPath(raw: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split(/\.|(?=\[)/).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
  let at = raw as Record<string | number, unknown>;
  parts.forEach((part, i) => {
    if (i === parts.length - 1) at[part] = value;
    else at = (at[part] ??= typeof parts[i + 1] === 'number' ? [] : {}) as Record<string | number, unknown>;
  });
}

describe('every secret-bearing key of the schema is checked (walks the schema, so a new key cannot be forgotten)', () => {
  const paths = [...new Map(schemaStringPaths(configSchema as unknown as ZodNode).map((p) => [p.path, p])).values()];

  test('the walk finds the keys this file names, and more', () => {
    expect(paths.length).toBeGreaterThan(60);
    for (const [path] of SECRET_KEYS) expect(paths.map((p) => p.path)).toContain(path.replace(/\[\d+\]/g, '[0]'));
  });

  test.each(paths.filter((p) => SECRET_KEY_NAME.test(p.key)).map((p) => [p.path]))('%s, named like a secret: a weak value is refused', (path) => {
    const raw = publicConfig();
    setPath(raw, path, 'replace-me');
    expect(problemsOf(raw).filter((p) => p.path === path && p.message.includes('not a usable secret'))).toHaveLength(1);
  });

  test.each(paths.filter((p) => !SECRET_KEY_NAME.test(p.key)).map((p) => [p.path]))('%s: a URL there with a weak password is refused', (path) => {
    for (const url of ['redis://:replace-me@redis.internal:6379', 'https://trustgate:short@host.internal/x']) {
      const raw = publicConfig();
      setPath(raw, path, url);
      // (The schema may refuse the value there too; the secret check must refuse it in any case.)
      const problems = problemsOf(raw).filter((p) => p.path === path && p.message.includes('not a usable secret'));
      expect(problems, url).toHaveLength(1);
      expect(problems[0]?.message).not.toContain('replace-me');
      expect(problems[0]?.message).not.toContain(url);
    }
  });
});

describe('a URL password that breaks the URL is refused, never passed unchecked', () => {
  // base64 output ("/", "+") pasted into a URL unencoded: URL parsers then misread the host and the password.
  const BROKEN = 'kq0LhT+3v9pA/WcZr8n2YxJ5eGmQ1uB7sDfH6iK4oN0tR2wE9yU3aS5d';
  test.each([['session.revocation.url'], ['trust.learnedStore.url'], ['breakGlass.store.url']])('%s', (path) => {
    const raw = publicConfig();
    setPath(raw, path, `redis://:${BROKEN}@redis.internal:6379`);
    const problems = problemsOf(raw).filter((p) => p.path === path && p.message.includes('not a valid URL'));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).not.toContain(BROKEN);
    expect(problems[0]?.message).toContain('openssl rand -hex 32');
  });

  test('the same password percent-encoded is accepted', () => {
    const raw = publicConfig();
    setPath(raw, 'session.revocation.url', `redis://:${encodeURIComponent('kq0LhT+3v9pA/WcZr8n2YxJ5eGmQ1uB7sDfH6iK4oN0tR2wE9yU3aS5d')}@redis.internal:6379`);
    expect(problemsOf(raw)).toEqual([]);
  });
});

const WEAK: Array<[string, string]> = [
  ['short', 'Ab3$xY9!qW'],
  ['31 bytes', 'q7Vx2mKp9LzR4tWb8nYc3HfJ6dGs1Ea'],
  ['contains replace', 'REPLACE-this-q7Vx2mKp9LzR4tWb8nYc3HfJ6d'],
  ['contains change', 'q7Vx2mKp9LzR4tWb8nYc3HfJ6dGs1E-ChangeMe'],
  ['contains example', 'q7Vx2mKp9LzR4tWb8nYc3HfJ6dGs-example'],
  ['contains placeholder', 'PlaceHolder-q7Vx2mKp9LzR4tWb8nYc3HfJ6d'],
  ['contains dummy', 'dummy-q7Vx2mKp9LzR4tWb8nYc3HfJ6dGs1EaU'],
  ['contains todo', 'q7Vx2mKp9LzR4tWb8nYc3HfJ6dGs1EaU-TODO'],
  ['few distinct characters', 'abababababababababababababababababababab'],
  ['11 distinct characters, long', '0123456789a0123456789a0123456789a0123456789a'],
  ...[...PUBLISHED_SECRETS].map((value): [string, string] => [`published ${JSON.stringify(value)}`, value]),
];

describe('secretWeaknesses', () => {
  test.each(WEAK)('%s is weak', (_name, value) => {
    expect(secretWeaknesses(value).length).toBeGreaterThan(0);
  });

  test.each([STRONG, STRONG_2, 'kq0LhT+3v9pA/WcZr8n2YxJ5eGmQ1uB7sDfH6iK4oN0tR2wE9yU3aS5dF7gH8jK1'])('%s is strong', (value) => {
    expect(secretWeaknesses(value)).toEqual([]);
  });

  test('every secret written in the shipped configs, deploy files and README is refused', () => {
    const values: string[] = [];
    const files = [
      ...readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.yaml')).map((f) => join(ROOT, 'config', f)),
      join(ROOT, 'deploy/docker-compose.yaml'),
      join(ROOT, 'deploy/kubernetes/trustgate.yaml'),
      join(ROOT, 'README.md'),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // ${NAME:-fallback} fallbacks, and literal values of secret-looking keys or variables.
      for (const m of text.matchAll(/\$\{[A-Z0-9_]*(?:SECRET|TOKEN|KEY|PASSWORD)[A-Z0-9_]*:-([^}]*)\}/g)) values.push(m[1] as string);
      for (const m of text.matchAll(/(?:SECRET|TOKEN|KEY|PASSWORD)[A-Z0-9_]*=([^\s"'`\\]+)/g)) values.push(m[1] as string);
    }
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(secretWeaknesses(value), value).not.toEqual([]);
  });
});

describe('the loader refuses weak secrets unless every listener is on loopback', () => {
  test('a public config with strong secrets everywhere loads', () => {
    expect(problemsOf(publicConfig())).toEqual([]);
  });

  test.each(SECRET_KEYS)('%s: every kind of weak value is refused, at its path, with how to make one', (path, put) => {
    for (const [name, value] of WEAK) {
      const raw = publicConfig();
      put(raw, value);
      const problems = problemsOf(raw).filter((p) => p.path === path);
      expect(problems, `${path} ${name}`).toHaveLength(1);
      expect(problems[0]?.message).toMatch(/not a usable secret/);
      // URL passwords are told to use URL-safe characters; every other secret gets the base64 recipe.
      expect(problems[0]?.message).toContain(path.endsWith('.url') ? 'openssl rand -hex 32' : 'openssl rand -base64 48');
      if (value.length >= 4) expect(problems[0]?.message).not.toContain(value);
    }
  });

  test('every weak secret is reported at once, together with schema problems', () => {
    const raw = publicConfig();
    for (const [, put] of SECRET_KEYS) put(raw, 'replace-me');
    (raw.session as Record<string, unknown>).lifetime = 'soon';
    const problems = problemsOf(raw);
    for (const [path] of SECRET_KEYS) expect(problems.map((p) => p.path)).toContain(path);
    expect(problems).toContainEqual({ path: 'session.lifetime', message: 'not a duration: "soon" (use e.g. 30s, 15m, 12h, 7d)' });
  });

  test('missing secrets are refused: no session secrets, a username without password', () => {
    const raw = publicConfig();
    delete (raw.session as Record<string, unknown>).secrets;
    delete ((raw.trust as Record<string, Record<string, unknown>>).source as Record<string, unknown>).password;
    const problems = problemsOf(raw);
    expect(problems.filter((p) => p.path === 'session.secrets')).toHaveLength(1);
    expect(problems.find((p) => p.path === 'session.secrets')?.message).toMatch(/missing/);
    expect(problems.find((p) => p.path === 'trust.source.password')?.message).toMatch(/missing/);
  });

  test('a weak secret from the environment is refused without echoing it; an unset one is reported once', () => {
    const raw = publicConfig();
    (raw.oidc as Record<string, unknown>).clientSecret = '${OIDC_SECRET}';
    (raw.session as Record<string, unknown>).secrets = ['${SESSION_SECRET}'];
    const weakFromEnv = 'env-value-Q9z-change-me';
    const problems = problemsOf(raw, { OIDC_SECRET: weakFromEnv });
    expect(problems.find((p) => p.path === 'oidc.clientSecret')?.message).toMatch(/not a usable secret/);
    expect(JSON.stringify(problems)).not.toContain(weakFromEnv);
    expect(problems.filter((p) => p.path === 'session.secrets[0]')).toEqual([{ path: 'session.secrets[0]', message: 'environment variable SESSION_SECRET is not set' }]);
  });

  test.each([['0.0.0.0'], ['::'], ['10.0.0.5'], ['example.com'], ['localhost.example.com'], ['app.localhost']])('a listener on %s makes secrets matter', (address) => {
    const raw = publicConfig();
    raw.listeners = [{ address: '127.0.0.1', port: 8080 }, { address, port: 8443 }];
    (raw.oidc as Record<string, unknown>).clientSecret = 'short';
    expect(problemsOf(raw).map((p) => p.path)).toContain('oidc.clientSecret');
  });

  test.each([['127.0.0.1'], ['127.1.2.3'], ['::1'], ['[::1]'], ['localhost'], ['::ffff:127.0.0.1'], [undefined]])('only loopback listeners (%s) are exempt (the demo, tests)', (address) => {
    const raw = publicConfig();
    raw.listeners = [{ ...(address ? { address } : {}), port: 8080 }];
    for (const [, put] of SECRET_KEYS.slice(2)) put(raw, 'replace-me');
    expect(problemsOf(raw)).toEqual([]);
    expect(isLoopbackAddress(address ?? '127.0.0.1')).toBe(true);
  });

  test('the demo config (loopback) loads with its demo fallbacks', () => {
    const text = readFileSync(join(ROOT, 'config/trustgate.yaml'), 'utf8');
    expect(() => parseConfigText(text, 'config/trustgate.yaml', {})).not.toThrow();
    // …and the same file on a public listener is refused for each of its secrets.
    const doc = parseDocument(text);
    doc.setIn(['listeners', 0, 'address'], '0.0.0.0');
    const paths = (() => {
      try {
        parseConfigText(doc.toString(), 'public demo', {});
        return [];
      } catch (error) {
        return ((error as { details: { problems: ConfigProblem[] } }).details.problems).map((p) => p.path);
      }
    })();
    expect(paths).toEqual(expect.arrayContaining(['oidc.clientSecret', 'session.secrets[0]', 'fleet.apiToken']));
  });
});
