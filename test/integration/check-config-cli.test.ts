// `trustgate check-config` run as users run it (`node src/main.ts check-config <file>`): the shipped
// configs are valid, a broken one lists every problem without a stack trace, and exit codes are right.
import { execFile } from 'node:child_process';
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
    if (!/^(TRUSTGATE_|FLEET_)/.test(name)) env[name] = value;
  }
  return env;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/main.ts', ...args], { cwd: ROOT, env: cleanEnv(), timeout: 20_000 }, (error, stdout, stderr) => {
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

  test.each(shipped)('%s is valid', async (file) => {
    const run = await runCli(['check-config', file]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`${file}: configuration is valid`);
    expect(run.code).toBe(0);
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
