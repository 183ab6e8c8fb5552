// `trustgate check-config` run as users run it (`node src/main.ts check-config <file>`): the shipped
// configs are valid (the production example only with strong secrets in the environment), a broken one
// lists every problem without a stack trace, and exit codes are right.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STACK_TRACE = /at .*\.ts:\d+/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without the variables the configs read, so the developer's shell cannot change results. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(TRUSTGATE_|FLEET_|ELASTIC_|SLACK_|REDIS_)/.test(name)) env[name] = value;
  }
  return env;
}

function runCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/main.ts', ...args], { cwd: ROOT, env: { ...cleanEnv(), ...extraEnv }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('trustgate check-config', () => {
  const shipped = ['trustgate.yaml', 'example.yaml'].map((name) => `config/${name}`).filter((file) => existsSync(join(ROOT, file)));
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-cli-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('runs on Node with type stripping (the project pins Node 24)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  test('the demo config is among the shipped configs', () => {
    expect(shipped).toContain('config/trustgate.yaml');
  });

  /** Every secret config/example.yaml reads, strong (what `openssl rand -base64 48` gives). */
  const STRONG_ENV = Object.fromEntries(
    ['TRUSTGATE_OIDC_CLIENT_SECRET', 'TRUSTGATE_SESSION_SECRET', 'FLEET_API_TOKEN', 'ELASTIC_API_KEY', 'ELASTIC_AUDIT_API_KEY', 'SLACK_WEBHOOK_PATH'].map((name) => [name, randomBytes(48).toString('base64')]),
  );

  test.each(shipped)('%s is valid (with strong secrets in the environment)', async (file) => {
    const run = await runCli(['check-config', file], STRONG_ENV);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`${file}: configuration is valid`);
    expect(run.code).toBe(0);
  });

  test('the demo config (loopback only) is valid without any environment', async () => {
    const run = await runCli(['check-config', 'config/trustgate.yaml']);
    expect(run.stdout).toContain('config/trustgate.yaml: configuration is valid');
    expect(run.code).toBe(0);
  });

  test('config/example.yaml without the environment exits 1 naming every missing secret', async () => {
    const run = await runCli(['check-config', 'config/example.yaml']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    for (const [path, name] of [
      ['oidc.clientSecret', 'TRUSTGATE_OIDC_CLIENT_SECRET'],
      ['session.secrets[0]', 'TRUSTGATE_SESSION_SECRET'],
      ['fleet.apiToken', 'FLEET_API_TOKEN'],
      ['trust.source.apiKey', 'ELASTIC_API_KEY'],
      ['breakGlass.audit.elasticsearch.apiKey', 'ELASTIC_AUDIT_API_KEY'],
    ]) {
      expect(run.stderr).toContain(`  ${path}: environment variable ${name} is not set`);
    }
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  test.each([
    ['a placeholder', 'replace-me-with-32-or-more-random-characters', /looks like a placeholder|published/],
    ['a short secret', 'Zq8!vR2@kL', /shorter than 32 bytes/],
    ['a low-variety secret', 'abcabcabcabcabcabcabcabcabcabcabcabcabc', /fewer than 12 distinct characters/],
  ])('config/example.yaml with %s in the environment exits 1, says how to make one, and does not echo it', async (_name, value, reason) => {
    const run = await runCli(['check-config', 'config/example.yaml'], { ...STRONG_ENV, TRUSTGATE_SESSION_SECRET: value, FLEET_API_TOKEN: value });
    expect(run.code).toBe(1);
    const lines = run.stderr.split('\n');
    for (const path of ['session.secrets[0]', 'fleet.apiToken']) {
      const line = lines.find((l) => l.startsWith(`  ${path}: `)) ?? '';
      expect(line).toMatch(reason);
      expect(line).toContain('openssl rand -base64 48');
    }
    expect(run.stderr).toContain('2 problem(s)');
    expect(run.stderr).not.toContain(value);
  });

  test('a broken config exits 1 and lists every problem with its path, without a stack trace', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      [
        'listeners: [{ port: 8080 }]',
        'oidc: { issuer: "https://idp.example.com", clientId: trustgate, clientSecret: "${TRUSTGATE_TEST_UNSET_SECRET}" }',
        'session: { secrets: [short], lifetime: soon }',
        'routes:',
        '  - { name: wiki, host: wiki.example.com, upstreem: "http://10.0.0.5", allowedGroups: [eng] }',
        '',
      ].join('\n'),
    );
    const run = await runCli(['check-config', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const [header = ''] = run.stderr.split('\n');
    expect(header.startsWith(`trustgate: ${file}: `)).toBe(true);
    const count = Number(/: (\d+) problem\(s\)$/.exec(header)?.[1]);
    const problemLines = run.stderr.split('\n').filter((line) => line.startsWith('  '));
    expect(problemLines.length).toBe(count);
    for (const line of problemLines) expect(line).toMatch(/^ {2}[\w.[\]]+: \S/);
    for (const line of [
      'oidc.clientSecret: environment variable TRUSTGATE_TEST_UNSET_SECRET is not set',
      'session.secrets[0]: session secrets need at least 32 characters',
      'session.lifetime: not a duration: "soon"',
      'routes[0].upstream: must be an http(s) URL',
      'routes[0].upstreem: unknown key',
    ]) {
      expect(run.stderr).toContain(`  ${line}`);
    }
    expect(count).toBeGreaterThanOrEqual(5);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(run.stderr).not.toMatch(/GatewayError|node:internal/);
  });

  test('cross-field problems are listed once the schema passes', async () => {
    const file = join(dir, 'cross.yaml');
    writeFileSync(
      file,
      [
        'listeners: [{ port: 8080 }]',
        'trustedProxies: [10.0.0.0/33, nope]',
        'oidc: { issuer: "http://idp.example.com", clientId: trustgate, clientSecret: s }',
        'session: { secrets: ["0123456789abcdef0123456789abcdef0123"] }',
        'routes:',
        '  - { name: wiki, host: wiki.example.com, upstream: "http://10.0.0.5" }',
        '',
      ].join('\n'),
    );
    const run = await runCli(['check-config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('4 problem(s)');
    expect(run.stderr).toContain('  routes[0]: no allow rule');
    expect(run.stderr).toContain('  trustedProxies[0]: "10.0.0.0/33" is not an IP address or CIDR range');
    expect(run.stderr).toContain('  trustedProxies[1]: "nope" is not an IP address or CIDR range');
    expect(run.stderr).toContain('  oidc.issuer: plain-http issuer outside loopback');
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  test('a YAML syntax error exits 1 with the line', async () => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, 'listeners:\n  - port: 8080\noidc: [unclosed\n');
    const run = await runCli(['check-config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/line \d+:/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  test('a missing file exits 1 with "cannot read"', async () => {
    const file = join(dir, 'does-not-exist.yaml');
    const run = await runCli(['check-config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot read config file ${file}`);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  test.each([[['frobnicate']], [['check-config']], [['check-config', 'a.yaml', 'b.yaml']]])('%j exits 2 with the usage text', async (args) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage:');
    expect(run.stderr).toContain('trustgate check-config <file>');
  });

  test('--help prints the usage text and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('trustgate serve <config.yaml>');
  });
});
