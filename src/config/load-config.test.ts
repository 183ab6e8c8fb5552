// Unit tests for the config loader: defaults, unknown keys, several problems at once, ${ENV} substitution,
// durations, cross-field checks, YAML syntax errors and the frozen result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { isGatewayError } from '../errors.ts';
import { loadConfigFile, parseConfigText } from './load-config.ts';
import type { ConfigProblem } from './config-problem.ts';
import type { Env } from './substitute-env.ts';

const SECRET = 'unit-test-session-secret-0123456789-abcdef';

function minimal(): Record<string, unknown> {
  return {
    listeners: [{ port: 8080 }],
    oidc: { issuer: 'https://idp.example.com', clientId: 'trustgate', clientSecret: 'client-secret' },
    session: { secrets: [SECRET] },
    routes: [{ name: 'app', host: 'app.example.com', upstream: 'http://10.0.0.5:8080', allowedGroups: ['engineering'] }],
  };
}

/** The minimal config with parts replaced; `route` is merged into the first route. */
function withChanges(changes: { top?: Record<string, unknown>; oidc?: Record<string, unknown>; session?: Record<string, unknown>; route?: Record<string, unknown> }): string {
  const config = minimal();
  const routes = config.routes as Record<string, unknown>[];
  return stringify({
    ...config,
    ...changes.top,
    oidc: { ...(config.oidc as object), ...changes.oidc },
    session: { ...(config.session as object), ...changes.session },
    routes: [{ ...routes[0], ...changes.route }, ...routes.slice(1)],
  });
}

/** The problems a config text is refused with (fails the test if it is accepted). */
function problemsOf(text: string, env: Env = {}): ConfigProblem[] {
  try {
    parseConfigText(text, 'test.yaml', env);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    expect(error.code).toBe('TG_ERR_CONFIG_INVALID');
    return error.details?.problems as ConfigProblem[];
  }
  throw new Error('expected the config to be refused');
}

function paths(problems: ConfigProblem[]): string[] {
  return problems.map((p) => p.path);
}

describe('parseConfigText', () => {
  test('a minimal config gets the documented defaults', () => {
    const config = parseConfigText(stringify(minimal()), 'test.yaml', {});
    expect(config.listeners[0]).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(config.trustedProxies).toEqual([]);
    expect(config.oidc).toMatchObject({
      scopes: ['openid', 'email', 'profile', 'groups'],
      groupsClaim: 'groups',
      emailClaim: 'email',
      allowInsecureIssuer: false,
      discoveryTimeout: 5_000,
    });
    expect(config.session).toMatchObject({
      cookieName: 'trustgate_session',
      lifetime: 12 * 3600_000,
      idleTimeout: 3600_000,
      refreshBefore: 60_000,
    });
    expect(config.session.cookieDomain).toBeUndefined();
    expect(config.routes[0]).toEqual({
      name: 'app',
      host: 'app.example.com',
      pathPrefix: '/',
      upstream: 'http://10.0.0.5:8080',
      allowedGroups: ['engineering'],
      allowedEmailDomains: [],
      allowedEmails: [],
      allowAnyAuthenticatedUser: false,
      websockets: false,
      websocketOrigins: [],
      preserveHost: false,
      public: [],
      timeout: 30_000,
    });
    expect(config.logging).toEqual({ level: 'info' });
  });

  test('host names, email domains and emails are lower-cased', () => {
    const config = parseConfigText(
      withChanges({ route: { host: 'App.Example.COM', allowedEmailDomains: ['Example.COM'], allowedEmails: ['Bob@Example.com'] } }),
      'test.yaml',
      {},
    );
    expect(config.routes[0]).toMatchObject({ host: 'app.example.com', allowedEmailDomains: ['example.com'], allowedEmails: ['bob@example.com'] });
  });

  test('unknown keys are refused at the top level, in oidc and in a route, each with its path', () => {
    const problems = problemsOf(withChanges({ top: { extra: true }, oidc: { clientSecrte: 'x' }, route: { upstreem: 'http://10.0.0.6' } }));
    expect(paths(problems).sort()).toEqual(['extra', 'oidc.clientSecrte', 'routes[0].upstreem']);
    for (const problem of problems) expect(problem.message).toMatch(/unknown key/i);
  });

  test('several problems are reported at once, each with its path', () => {
    const text = stringify({
      listeners: [{ port: 70000 }],
      oidc: { issuer: 'ftp://idp.example.com', clientId: '', clientSecret: 'x' },
      session: { secrets: ['too-short'], lifetime: 'forever' },
      routes: [{ name: 'App', host: 'app.example.com', upstream: 'http://10.0.0.5', allowedGroups: ['x'] }],
      logging: { level: 'loud' },
    });
    const problems = problemsOf(text);
    expect(paths(problems).sort()).toEqual(
      ['listeners[0].port', 'oidc.issuer', 'oidc.clientId', 'session.secrets[0]', 'session.lifetime', 'routes[0].name', 'logging.level'].sort(),
    );
    expect(problems.find((p) => p.path === 'session.secrets[0]')?.message).toMatch(/32 characters/);
    expect(problems.find((p) => p.path === 'session.lifetime')?.message).toMatch(/not a duration: "forever"/);
  });

  test('missing required sections are reported by name', () => {
    const problems = problemsOf(stringify({ listeners: [{ port: 1 }] }));
    expect(paths(problems).sort()).toEqual(['oidc', 'routes', 'session']);
  });

  test('the error message lists every problem with its path', () => {
    let message = '';
    try {
      parseConfigText(withChanges({ top: { extra: 1 }, route: { upstream: 'nope' } }), 'my.yaml', {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^my\.yaml: 2 problem\(s\)/);
    expect(message).toContain('  extra: unknown key');
    expect(message).toContain('  routes[0].upstream: must be an http(s) URL');
  });
});

describe('environment substitution', () => {
  const text = `
listeners: [{ port: 8080 }]
oidc:
  issuer: \${IDP_URL:-https://idp.example.com}
  clientId: trustgate
  clientSecret: \${CLIENT_SECRET}
session:
  secrets: ['\${SESSION_SECRET}']
routes:
  - name: app
    host: app.example.com
    upstream: http://10.0.0.5:8080
    allowedGroups: ['\${GROUP:-engineering}']
`;

  test('${X} takes the variable and ${X:-default} falls back to the default', () => {
    const config = parseConfigText(text, 'env.yaml', { CLIENT_SECRET: 'from-env', SESSION_SECRET: SECRET });
    expect(config.oidc.clientSecret).toBe('from-env');
    expect(config.oidc.issuer).toBe('https://idp.example.com');
    expect(config.session.secrets).toEqual([SECRET]);
    expect(config.routes[0]?.allowedGroups).toEqual(['engineering']);
  });

  test('a set variable wins over the default', () => {
    const config = parseConfigText(text, 'env.yaml', {
      CLIENT_SECRET: 'x',
      SESSION_SECRET: SECRET,
      IDP_URL: 'https://other.example.com',
      GROUP: 'sales',
    });
    expect(config.oidc.issuer).toBe('https://other.example.com');
    expect(config.routes[0]?.allowedGroups).toEqual(['sales']);
  });

  test('missing variables are reported with their paths', () => {
    const problems = problemsOf(text, {});
    const missing = problems.filter((p) => /environment variable/.test(p.message));
    expect(missing).toEqual([
      { path: 'oidc.clientSecret', message: 'environment variable CLIENT_SECRET is not set' },
      { path: 'session.secrets[0]', message: 'environment variable SESSION_SECRET is not set' },
    ]);
  });

  test('a problem never shows a value the environment supplied', () => {
    const env = { CLIENT_SECRET: 'x', SESSION_SECRET: SECRET, GRACE: 'Zq-secret-duration-value', PROXY: 'Zq-secret-proxy-value' };
    const withRefs = text.replace('allowedGroups:', "timeout: '${GRACE}'\n    allowedGroups:") + "trustedProxies: ['${PROXY}']\n";
    const problems = problemsOf(withRefs, env);
    expect(problems).toContainEqual({ path: 'routes[0].timeout', message: 'not a duration: "${GRACE}" (use e.g. 30s, 15m, 12h, 7d)' });
    const crossChecked = problemsOf(text + "trustedProxies: ['${PROXY}']\n", env);
    expect(crossChecked).toContainEqual({ path: 'trustedProxies[0]', message: '"${PROXY}" is not an IP address or CIDR range' });
    expect(JSON.stringify([...problems, ...crossChecked])).not.toMatch(/Zq-secret/);
  });

  test.each([['name', '${ROUTE}'], ['breakGlass', { allowed: true, group: 'g-${ROUTE}' }]])('routes[].%s must be written literally', (key, value) => {
    const problems = problemsOf(withChanges({ route: { [key]: value } }), { ROUTE: 'app' });
    expect(problems.map((p) => p.message)).toContain('write this name literally: ${…} is not substituted here');
  });

  test('a value containing YAML syntax stays a plain string', () => {
    const tricky = 'a: b\n- c\n{ d: [e] } # f';
    const config = parseConfigText(text, 'env.yaml', { CLIENT_SECRET: tricky, SESSION_SECRET: SECRET });
    expect(config.oidc.clientSecret).toBe(tricky);
    expect(config.oidc.clientId).toBe('trustgate');
    expect(config.routes).toHaveLength(1);
  });
});

describe('durations', () => {
  test.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['250ms', 250],
    [90, 90_000],
    [1.5, 1_500],
  ])('%j is %d ms', (value, ms) => {
    const config = parseConfigText(withChanges({ session: { lifetime: value } }), 'test.yaml', {});
    expect(config.session.lifetime).toBe(ms);
  });

  test.each(['10 minutes', '5x', '-1s', ''])('%j is refused with its path', (value) => {
    const problems = problemsOf(withChanges({ route: { timeout: value } }));
    expect(paths(problems)).toEqual(['routes[0].timeout']);
    expect(problems[0]?.message).toMatch(/not a duration/);
  });

  test('a negative number is refused', () => {
    expect(paths(problemsOf(withChanges({ session: { idleTimeout: -5 } })))).toEqual(['session.idleTimeout']);
  });
});

describe('cross-checks', () => {
  function twoRoutes(second: Record<string, unknown>): string {
    const config = minimal();
    const first = (config.routes as Record<string, unknown>[])[0];
    return stringify({ ...config, routes: [first, { upstream: 'http://10.0.0.6', allowedGroups: ['x'], ...second }] });
  }

  test('duplicate route names are refused', () => {
    const problems = problemsOf(twoRoutes({ name: 'app', host: 'other.example.com' }));
    expect(problems).toEqual([{ path: 'routes[1].name', message: 'duplicate route name "app"' }]);
  });

  test('two routes with the same host and path prefix are refused (a trailing slash does not make them differ)', () => {
    const config = minimal();
    const routes = [
      { name: 'a', host: 'app.example.com', pathPrefix: '/api', upstream: 'http://10.0.0.5', allowedGroups: ['x'] },
      { name: 'b', host: 'app.example.com', pathPrefix: '/api/', upstream: 'http://10.0.0.6', allowedGroups: ['x'] },
      { name: 'c', host: 'app.example.com', pathPrefix: '/other', upstream: 'http://10.0.0.6', allowedGroups: ['x'] },
    ];
    expect(paths(problemsOf(stringify({ ...config, routes })))).toEqual(['routes[1].pathPrefix']);
  });

  test.each([
    ['app.example.com', 'app.example.com'],
    ['APP.example.com:8443', 'app.example.com'],
    ['app.example.com', 'app.example.com:8443'],
    ['app.example.com:443', 'app.example.com:8443'],
  ])('a route on the admin host is refused (admin.host %s, route host %s): ports do not separate cookies', (adminHost, routeHost) => {
    const problems = problemsOf(withChanges({ top: { admin: { host: adminHost } }, route: { host: routeHost } }));
    expect(paths(problems)).toEqual(['routes[0].host']);
    expect(problems[0]?.message).toMatch(/is the admin host/);
  });

  test('admin.host on its own name is accepted, and it is optional', () => {
    expect(parseConfigText(withChanges({ top: { admin: { host: 'Trustgate-Admin.example.com' } } }), 'test.yaml', {}).admin.host).toBe('trustgate-admin.example.com');
    expect(parseConfigText(withChanges({}), 'test.yaml', {}).admin.host).toBeUndefined();
    expect(paths(problemsOf(withChanges({ top: { admin: { host: 'https://admin.example.com/' } } })))).toEqual(['admin.host']);
  });

  test('a route without an allow rule is refused; allowAnyAuthenticatedUser: true is accepted', () => {
    const problems = problemsOf(withChanges({ route: { allowedGroups: [] } }));
    expect(paths(problems)).toEqual(['routes[0]']);
    expect(problems[0]?.message).toMatch(/no allow rule/);
    const config = parseConfigText(withChanges({ route: { allowedGroups: [], allowAnyAuthenticatedUser: true } }), 'test.yaml', {});
    expect(config.routes[0]?.allowAnyAuthenticatedUser).toBe(true);
    expect(() => parseConfigText(withChanges({ route: { allowedGroups: [], allowedEmails: ['a@example.com'] } }), 'test.yaml', {})).not.toThrow();
  });

  test('public paths must lie under the route prefix', () => {
    const problems = problemsOf(withChanges({ route: { pathPrefix: '/app', public: ['/app/public', '/application', '/static'] } }));
    expect(paths(problems)).toEqual(['routes[0].public[1]', 'routes[0].public[2]']);
    expect(problems[0]?.message).toContain('/app');
  });

  test('bad trustedProxies entries are refused, good ones accepted', () => {
    const problems = problemsOf(withChanges({ top: { trustedProxies: ['10.0.0.0/8', '10.0.0.0/33', 'nope', '::1', 'fd00::/129', '1.2.3.4/8/9'] } }));
    expect(paths(problems)).toEqual(['trustedProxies[1]', 'trustedProxies[2]', 'trustedProxies[4]', 'trustedProxies[5]']);
    const config = parseConfigText(withChanges({ top: { trustedProxies: ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8'] } }), 'test.yaml', {});
    expect(config.trustedProxies).toHaveLength(4);
  });

  test('stripHeaders takes header names and prefixes; anything that could match everything or is no name is refused', () => {
    const problems = problemsOf(withChanges({ top: { stripHeaders: ['X-Employee-Id', '*', 'X-*-Y', 'has space', '-*', 'X_Internal.*', ''] } }));
    expect(paths(problems)).toEqual(['stripHeaders[1]', 'stripHeaders[2]', 'stripHeaders[3]', 'stripHeaders[4]', 'stripHeaders[6]']);
    expect(parseConfigText(withChanges({ top: { stripHeaders: ['X-Employee-Id', 'X_Internal.*'] } }), 't', {}).stripHeaders).toEqual(['X-Employee-Id', 'X_Internal.*']);
    expect(parseConfigText(withChanges({}), 't', {}).stripHeaders).toEqual([]);
  });

  test('a plain-http issuer outside loopback is refused unless allowInsecureIssuer is set', () => {
    expect(problemsOf(withChanges({ oidc: { issuer: 'http://idp.example.com' } }))).toEqual([
      { path: 'oidc.issuer', message: expect.stringMatching(/plain-http issuer/) },
    ]);
    expect(parseConfigText(withChanges({ oidc: { issuer: 'http://idp.example.com', allowInsecureIssuer: true } }), 't', {}).oidc.allowInsecureIssuer).toBe(true);
    for (const issuer of ['http://127.0.0.1:9001', 'http://localhost:9001', 'http://[::1]:9001']) {
      expect(parseConfigText(withChanges({ oidc: { issuer } }), 't', {}).oidc.issuer).toBe(issuer);
    }
  });

  describe('TLS files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustgate-config-test-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    writeFileSync(cert, 'not really a certificate');
    writeFileSync(key, 'not really a key');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('readable files are accepted', () => {
      const config = parseConfigText(withChanges({ top: { listeners: [{ port: 8443, tls: { certFile: cert, keyFile: key } }] } }), 't', {});
      expect(config.listeners[0]?.tls).toEqual({ certFile: cert, keyFile: key, requestClientCert: false });
    });

    test('an unreadable TLS file is reported with its path', () => {
      const missing = join(dir, 'missing.pem');
      const problems = problemsOf(withChanges({ top: { listeners: [{ port: 8443, tls: { certFile: cert, keyFile: missing } }] } }));
      expect(problems).toEqual([{ path: 'listeners[0].tls.keyFile', message: `cannot read ${missing}` }]);
    });

    test('requestClientCert needs clientCaFile', () => {
      const problems = problemsOf(withChanges({ top: { listeners: [{ port: 8443, tls: { certFile: cert, keyFile: key, requestClientCert: true } }] } }));
      expect(paths(problems)).toEqual(['listeners[0].tls.clientCaFile']);
      expect(problems[0]?.message).toMatch(/requestClientCert/);
      const ok = parseConfigText(withChanges({ top: { listeners: [{ port: 8443, tls: { certFile: cert, keyFile: key, clientCaFile: cert, requestClientCert: true } }] } }), 't', {});
      expect(ok.listeners[0]?.tls?.requestClientCert).toBe(true);
    });
  });
});

describe('YAML and files', () => {
  test('a YAML syntax error is reported with its line', () => {
    const text = 'listeners:\n  - port: 8080\noidc: [unclosed\nsession: {}\n';
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.path).toMatch(/^line \d+$/);
  });

  test('duplicate keys are a YAML error', () => {
    const problems = problemsOf(`${stringify(minimal())}\nlisteners: [{ port: 1 }]\n`);
    expect(problems[0]?.path).toMatch(/^line \d+$/);
    expect(problems[0]?.message).toMatch(/unique/i);
  });

  test('an empty file is refused with the missing sections', () => {
    expect(paths(problemsOf('')).sort()).toEqual(['listeners', 'oidc', 'routes', 'session']);
  });

  test('the result is deeply frozen', () => {
    const config = parseConfigText(stringify(minimal()), 'test.yaml', {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes)).toBe(true);
    expect(Object.isFrozen(config.routes[0])).toBe(true);
    expect(Object.isFrozen(config.routes[0]?.allowedGroups)).toBe(true);
    expect(Object.isFrozen(config.session.secrets)).toBe(true);
    expect(Object.isFrozen(config.oidc.scopes)).toBe(true);
    expect(Object.isFrozen(config.listeners[0])).toBe(true);
    expect(() => {
      (config.routes[0]?.allowedGroups as string[]).push('everyone');
    }).toThrow(TypeError);
  });

  test('loadConfigFile reads a file; a missing file is TG_ERR_CONFIG_UNREADABLE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustgate-config-file-'));
    try {
      const file = join(dir, 'trustgate.yaml');
      writeFileSync(file, stringify(minimal()));
      expect((await loadConfigFile(file, {})).routes[0]?.name).toBe('app');
      await expect(loadConfigFile(join(dir, 'nope.yaml'), {})).rejects.toMatchObject({
        code: 'TG_ERR_CONFIG_UNREADABLE',
        message: expect.stringContaining('cannot read config file'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
