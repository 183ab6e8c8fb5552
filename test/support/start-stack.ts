// The one integration harness (as Pomerium's test environment): a real development IdP, a real echo
// upstream and the real gateway, all on 127.0.0.1:0, wired through the real config loader.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load-config.ts';
import type { GatewayConfig } from '../../src/config/schema.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { startDevIdp, type DevIdp, type DevIdpOptions } from '../../src/dev/dev-idp.ts';
import { startDemoApp, type DemoApp } from '../../src/dev/demo-app.ts';
import { startFleetSimulator, type FleetSimulator } from '../../src/dev/fleet-simulator.ts';
import { loadSimulatorData } from '../../src/dev/fleet-simulator-data.ts';
import type { ResultsSource } from '../../src/pipeline/gather-posture/results-source.ts';

const DEMO_FLEET_DATA = new URL('../../config/fleet-simulator.yaml', import.meta.url).pathname;
export const FLEET_TOKEN = 'test-fleet-token';

/** The admin console's host in the tests (admin.host): any port, resolved to loopback by the test clients. */
export const ADMIN_HOST = 'admin.localhost';

export const TEST_SECRET = 'test-session-secret-0123456789-abcdefghij';

export interface StackOptions {
  /** Extra route fields for the default route, or whole routes (upstream defaults to the echo app). */
  route?: Record<string, unknown>;
  routes?: (upstream: string) => Record<string, unknown>[];
  session?: Record<string, unknown>;
  oidc?: Record<string, unknown>;
  trustedProxies?: string[];
  /** The top-level stripHeaders list. */
  stripHeaders?: string[];
  idp?: DevIdpOptions;
  now?: () => number;
  /** Start without the IdP's client registered (simulates an IdP that is not answering yet). */
  idpDown?: boolean;
  /** Start the Fleet simulator with the demo data and configure the gateway's fleet section. */
  fleet?: { refetchDelayMs?: number; config?: Record<string, unknown> };
  posture?: Record<string, unknown>;
  deviceIdentity?: Record<string, unknown>;
  /** TLS for the gateway's listener (mTLS when clientCaFile and requestClientCert are set). */
  tls?: Record<string, unknown>;
  /** The gateway's metrics section (allowFrom). */
  metrics?: Record<string, unknown>;
  /**
   * The gateway's admin section (host, groups, groupsMaxAge), merged over the default
   * { host: 'admin.localhost' } (any port; Stack.adminUrl). Give { host: undefined } for a gateway
   * without an admin host.
   */
  admin?: Record<string, unknown>;
  /**
   * The trust section: trust.source is a result-log file in a temp dir (Stack.resultLog) holding
   * `lines`; `config` is merged over it; `resultsSource` replaces the configured source (GatewayDeps).
   */
  trust?: { lines?: string[]; config?: Record<string, unknown>; resultsSource?: ResultsSource };
  /**
   * The top-level breakGlass section. The grant store and the audit trail (always there: session
   * revocations are audited too) are files in Stack.breakGlassDir: a fresh temp dir, or `dir` to reopen one (a restart;
   * the caller then owns and removes it). `store` replaces the file store (e.g. a shared Redis prefix);
   * `audit` is merged over the default files (e.g. a webhook).
   */
  breakGlass?: { dir?: string; store?: Record<string, unknown>; audit?: Record<string, unknown> };
  /** The environment ${NAME} in the config is read from (also on admin saves and reloads); default: none. */
  env?: Record<string, string>;
  /**
   * session.revocation: by default a file in a fresh temp dir; `dir` reopens one (a restart; the caller
   * then owns and removes it); `store` replaces it (e.g. `{ kind: 'redis', url, prefix }` shared by two stacks).
   */
  revocation?: { dir?: string; store?: Record<string, unknown> };
  /** Write the generated config to a file in a temp dir (Stack.configFile) and run the gateway from it (admin console, hot reload). */
  configFile?: boolean;
}

/** The revocation file's name inside Stack.revocationDir. */
export const REVOCATION_FILE = 'session-revocations.jsonl';

/** File names inside Stack.breakGlassDir. */
export const BREAK_GLASS_FILES = { grants: 'break-glass-grants.jsonl', audit: 'break-glass-audit.jsonl', spoolDir: 'audit-spool' } as const;

export interface Stack {
  url: string;
  /** The admin console's host on the gateway's port, e.g. http://admin.localhost:PORT ('' without admin.host). */
  adminUrl: string;
  port: number;
  config: GatewayConfig;
  gateway: Gateway;
  idp: DevIdp;
  upstream: DemoApp;
  fleet: FleetSimulator | undefined;
  /** The result log trust.source points at (with the trust option). */
  resultLog: string | undefined;
  /** Where the break-glass store, audit file and spool live (when a route uses breakGlass). */
  breakGlassDir: string | undefined;
  /** The config file the gateway runs from (with the configFile option). */
  configFile: string | undefined;
  /** Where the file revocation list lives (unless a store was given). */
  revocationDir: string | undefined;
  /** The break-glass audit file's events, oldest first ([] when there is none yet). */
  auditEvents(): Promise<Record<string, unknown>[]>;
  logs: Record<string, unknown>[];
  /** Decision log lines, newest last. */
  decisions(): Record<string, unknown>[];
  registerClient(): void;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const idp = await startDevIdp(options.idp ?? {});
  const upstream = await startDemoApp({});
  const fleet = options.fleet
    ? await startFleetSimulator({ data: await loadSimulatorData(DEMO_FLEET_DATA), apiToken: FLEET_TOKEN, refetchDelayMs: options.fleet.refetchDelayMs ?? 300, now: options.now })
    : undefined;
  const resultsDir = options.trust ? await mkdtemp(path.join(tmpdir(), 'trustgate-results-')) : undefined;
  const resultLog = resultsDir ? path.join(resultsDir, 'osquery_result.log') : undefined;
  if (resultLog) await writeFile(resultLog, (options.trust?.lines ?? []).map((line) => `${line}\n`).join(''));
  const routes = options.routes?.(upstream.url) ?? [
    { name: 'app', host: '127.0.0.1', upstream: upstream.url, allowedGroups: ['engineering'], websockets: true, public: ['/public'], ...options.route },
  ];
  // Always: the audit trail exists whether or not a route offers break glass (session revocations write it).
  const breakGlassDir = options.breakGlass?.dir ?? (await mkdtemp(path.join(tmpdir(), 'trustgate-break-glass-')));
  const ownBreakGlassDir = options.breakGlass?.dir ? undefined : breakGlassDir;
  const breakGlass = {
    store: options.breakGlass?.store ?? { kind: 'file', file: path.join(breakGlassDir, BREAK_GLASS_FILES.grants) },
    audit: { file: path.join(breakGlassDir, BREAK_GLASS_FILES.audit), spoolDir: path.join(breakGlassDir, BREAK_GLASS_FILES.spoolDir), ...options.breakGlass?.audit },
  };
  const ownRevocationDir = options.revocation?.dir || options.revocation?.store ? undefined : await mkdtemp(path.join(tmpdir(), 'trustgate-revocations-'));
  const revocationDir = options.revocation?.dir ?? ownRevocationDir;
  const revocation = options.revocation?.store ?? { kind: 'file', path: path.join(revocationDir ?? '', REVOCATION_FILE) };
  const raw = {
    listeners: [{ address: '127.0.0.1', port: 0, ...(options.tls ? { tls: options.tls } : {}) }],
    ...(fleet ? { fleet: { url: fleet.url, apiToken: FLEET_TOKEN, timeout: '2s', retries: 0, ...options.fleet?.config } } : {}),
    ...(options.posture ? { posture: options.posture } : {}),
    ...(options.deviceIdentity ? { deviceIdentity: options.deviceIdentity } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(resultLog ? { trust: { source: { kind: 'result-log', file: resultLog }, ...options.trust?.config } } : {}),
    trustedProxies: options.trustedProxies ?? [],
    ...(options.stripHeaders ? { stripHeaders: options.stripHeaders } : {}),
    oidc: { issuer: idp.issuer, clientId: 'trustgate-test', clientSecret: 'test-client-secret', ...options.oidc },
    session: { secrets: [TEST_SECRET], revocation, ...options.session },
    routes,
    breakGlass,
    admin: { host: ADMIN_HOST, ...options.admin },
    logging: { level: 'info' },
  };
  const config = parseConfigText(stringify(raw), 'test config', options.env ?? {});
  const configDir = options.configFile ? await mkdtemp(path.join(tmpdir(), 'trustgate-config-')) : undefined;
  const configFile = configDir ? path.join(configDir, 'trustgate.yaml') : undefined;
  if (configFile) await writeFile(configFile, `# Written by test/support/start-stack.ts\n${stringify(raw)}`);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const gateway = createGateway(config, { log: pino({ level: 'debug' }, sink), now: options.now, resultsSource: options.trust?.resultsSource, configFile, env: options.env ?? {} });
  const [bound] = await gateway.listen();
  if (!bound) throw new Error('gateway did not listen');
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${bound.port}`;
  const adminHost = config.admin.host;
  const adminUrl = adminHost === undefined ? '' : `${options.tls ? 'https' : 'http'}://${/:\d+$/.test(adminHost) ? adminHost : `${adminHost}:${bound.port}`}`;
  const origins = [url, `http://localhost:${bound.port}`, ...(adminUrl ? [adminUrl] : [])];
  const registerClient = (): void =>
    idp.registerClient({
      clientId: 'trustgate-test',
      clientSecret: 'test-client-secret',
      redirectUris: origins.map((origin) => `${origin}/.trustgate/callback`),
      postLogoutRedirectUris: origins.map((origin) => `${origin}/.trustgate/signed-out`),
      backchannelLogoutUri: `${url}/.trustgate/backchannel-logout`,
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
  if (!options.idpDown) registerClient();
  return {
    url,
    adminUrl,
    port: bound.port,
    config,
    gateway,
    idp,
    upstream,
    fleet,
    resultLog,
    breakGlassDir,
    configFile,
    revocationDir,
    async auditEvents() {
      if (!breakGlassDir) return [];
      const text = await readFile(path.join(breakGlassDir, BREAK_GLASS_FILES.audit), 'utf8').catch(() => '');
      return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logs,
    decisions: () => logs.filter((l) => l.msg === 'decision'),
    registerClient,
    async close() {
      await gateway.close();
      await Promise.all([idp.close(), upstream.close(), fleet?.close()]);
      if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
      if (ownBreakGlassDir) await rm(ownBreakGlassDir, { recursive: true, force: true });
      if (configDir) await rm(configDir, { recursive: true, force: true });
      if (ownRevocationDir) await rm(ownRevocationDir, { recursive: true, force: true });
    },
  };
}

/** A clock tests can move forward. */
export function testClock(startMs = Date.now()): { now: () => number; advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => startMs + offset + (Date.now() - startMs),
    advance(ms) {
      offset += ms;
    },
  };
}
